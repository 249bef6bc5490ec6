"""The REST channel (`/webhooks/rest/webhook`) with personal data masked on entry."""

from __future__ import annotations

from rasa.core.channels.rest import RestInput

from bot.channels.masking import MaskingInputMixin


class MaskingRestInput(MaskingInputMixin, RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

"""The REST channel (`/webhooks/rest/webhook`) with personal data masked on entry."""

from __future__ import annotations

from typing import Any

from rasa.core.channels.rest import RestInput
from sanic.request import Request

from bot.channels.masking import MaskingInputMixin

IDENTITY_KEY = "rakel_identity"


def without_identity(metadata: Any) -> dict[str, Any] | None:
    """Client metadata minus `rakel_identity`: identity is only ever set by a channel
    that verified it (docs/architecture.md), so a client cannot claim to be someone
    else and read their tickets."""
    if not isinstance(metadata, dict):
        return None
    return {key: value for key, value in metadata.items() if key != IDENTITY_KEY}


class MaskingRestInput(MaskingInputMixin, RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        return without_identity(super().get_metadata(request))

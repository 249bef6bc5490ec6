"""Mask personal data where a message enters Rakel, before Rasa stores or logs it.

Rasa Open Source's tracker store keeps the raw user text (its PII masking is a
Rasa Pro feature), so every Rakel channel wraps Rasa's `on_new_message` callback:
NLU, the tracker store, logs and tickets then only ever see masked text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage

from bot.privacy import mask_text

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def masking(on_new_message: OnNewMessage) -> OnNewMessage:
    async def handle(message: UserMessage) -> Any:
        if message.text:
            message.text = mask_text(message.text)
        return await on_new_message(message)

    return handle


class MaskingInputMixin:
    """Put first in the bases of an InputChannel subclass."""

    def blueprint(self, on_new_message: OnNewMessage) -> Any:
        return super().blueprint(masking(on_new_message))  # type: ignore[misc]

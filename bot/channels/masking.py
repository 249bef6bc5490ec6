"""Every message entering Rakel passes here, whatever the channel.

1. Personal data is masked before Rasa stores or logs it. Rasa Open Source's tracker
   store keeps the raw user text (its PII masking is a Rasa Pro feature), so every
   Rakel channel wraps Rasa's `on_new_message` callback: NLU, the tracker store, logs
   and tickets then only ever see masked text.
2. Over-long messages get a polite request for a shorter one and are not processed
   (nor stored): a pasted log file is not a question, and NLU time grows with length.
3. At most a few messages are worked on at once, first come first served
   (bot/channels/admission.py): hand-offs no longer queue behind everyone per action call.
4. No message goes unanswered: if processing produced no reply (Rasa logs and swallows
   a failing custom action, e.g. while the action server restarts), the user gets a
   polite Norwegian notice instead of silence (bot/channels/reply_guarantee.py).

The Norwegian texts are the domain's responses `utter_message_too_long` and
`utter_action_unavailable`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import yaml
from rasa.core.channels.channel import UserMessage

from bot.channels.admission import Admission
from bot.channels.reply_guarantee import counting_replies
from bot.privacy import mask_text
from bot.settings import PROJECT_ROOT, load_settings

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
MAX_MESSAGE_CHARS = 2000


@functools.cache
def notice(response: str) -> str:
    """A response text from domain.yml, read once per process."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return domain["responses"][response][0]["text"]


@functools.cache
def admission() -> Admission:
    """One bound for the whole Rasa process, shared by every channel."""
    return Admission(load_settings().rasa_max_in_flight)


def guarded(
    on_new_message: OnNewMessage, max_chars: int = MAX_MESSAGE_CHARS, door: Admission | None = None
) -> OnNewMessage:
    async def handle(message: UserMessage) -> Any:
        output = message.output_channel
        if message.text and len(message.text) > max_chars:
            logger.info(
                "message of %d characters from %s not processed (limit %d)",
                len(message.text),
                message.sender_id,
                max_chars,
            )
            await output.send_text_message(message.sender_id, notice("utter_message_too_long"))
            return None
        if message.text:
            message.text = mask_text(message.text)
        with counting_replies(output) as counting:
            async with (door or admission()).slot():
                result = await on_new_message(message)
        if counting.sent == 0:
            logger.warning("no reply to a message from %s; sending a notice", message.sender_id)
            await output.send_text_message(message.sender_id, notice("utter_action_unavailable"))
        return result

    return handle


class MaskingInputMixin:
    """Put first in the bases of an InputChannel subclass (see the module docstring)."""

    def blueprint(self, on_new_message: OnNewMessage) -> Any:
        return super().blueprint(guarded(on_new_message))  # type: ignore[misc]

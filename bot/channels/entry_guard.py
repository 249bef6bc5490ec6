"""Every message entering Rakel passes here, whatever the channel, in this order:

1. an over-long message gets a polite request for a shorter one and goes no further
   (bot/channels/length_limit.py);
2. its personal data is masked before Rasa stores or logs it (bot/channels/masking.py);
3. it waits for one of the few slots of the Rasa process, first come first served
   (bot/channels/admission.py);
4. if processing produced no reply (Rasa logs and swallows a failing custom action,
   e.g. while the action server restarts), the user gets a polite notice instead of
   silence (bot/channels/reply_guarantee.py).

The Norwegian texts are the loaded model's domain responses `utter_message_too_long`
and `utter_action_unavailable` (bot/channels/notices.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage

from bot.channels.admission import Admission, process_admission
from bot.channels.length_limit import MAX_MESSAGE_CHARS, TOO_LONG_RESPONSE, too_long
from bot.channels.masking import mask_message
from bot.channels.notices import AgentNotices, Notices
from bot.channels.reply_guarantee import NO_REPLY_RESPONSE, guaranteed_reply

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def guarded(
    on_new_message: OnNewMessage,
    notices: Notices,
    max_chars: int = MAX_MESSAGE_CHARS,
    door: Admission | None = None,
) -> OnNewMessage:
    async def handle(message: UserMessage) -> Any:
        output = message.output_channel
        if too_long(message.text, max_chars):
            logger.info(
                "message of %d characters from %s not processed (limit %d)",
                len(message.text or ""),
                message.sender_id,
                max_chars,
            )
            text = notices(TOO_LONG_RESPONSE)
            if text is not None:
                await output.send_text_message(message.sender_id, text)
            return None
        mask_message(message)
        async with guaranteed_reply(output, message.sender_id, lambda: notices(NO_REPLY_RESPONSE)):
            async with (door or process_admission()).slot():
                return await on_new_message(message)

    return handle


class EntryGuardMixin:
    """Put first in the bases of an InputChannel subclass (see the module docstring)."""

    def blueprint(self, on_new_message: OnNewMessage) -> Any:
        notices = AgentNotices()
        blueprint = super().blueprint(guarded(on_new_message, notices))  # type: ignore[misc]
        return notices.attach(blueprint)

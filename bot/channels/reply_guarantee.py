"""No message goes unanswered: count what the bot sends for one message.

Rasa logs and swallows a failing custom action (e.g. while the action server
restarts), so a message can end with no reply at all. The entry guard counts the
replies sent for a message and, when there were none, sends a polite notice.

The output channel itself is kept: Rasa's processor, and custom channels, check its
class (`isinstance(output, CollectingOutputChannel)` decides whether the processor
returns the collected messages), so the count is taken by wrapping the `send_*`
methods of that one instance for the duration of the message, not by a proxy object.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import OutputChannel

logger = logging.getLogger(__name__)
NO_REPLY_RESPONSE = "utter_action_unavailable"


@dataclass
class SentCount:
    sent: int = 0


@contextlib.contextmanager
def counting_replies(output: OutputChannel) -> Iterator[SentCount]:
    """Count the `send_*` calls made on `output` inside the block."""
    count = SentCount()
    names = [name for name in dir(type(output)) if name.startswith("send_")]
    for name in names:
        original = getattr(output, name)
        if not callable(original):
            continue

        async def counted(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            count.sent += 1
            return await _original(*args, **kwargs)

        setattr(output, name, counted)
    try:
        yield count
    finally:
        for name in names:
            output.__dict__.pop(name, None)


@contextlib.asynccontextmanager
async def guaranteed_reply(
    output: OutputChannel, recipient: str, notice: Callable[[], str | None]
) -> AsyncIterator[None]:
    """After the block: if nothing was sent to `recipient`, send `notice()`."""
    with counting_replies(output) as counting:
        yield
    if counting.sent == 0:
        logger.warning("no reply to a message from %s; sending a notice", recipient)
        text = notice()
        if text is not None:
            await output.send_text_message(recipient, text)

"""Over-long messages are not processed (nor stored).

A pasted log file is not a question, and NLU time grows with length; the user gets a
polite request for a shorter message instead (the entry guard sends the domain's
`utter_message_too_long`).
"""

from __future__ import annotations

MAX_MESSAGE_CHARS = 2000
TOO_LONG_RESPONSE = "utter_message_too_long"


def too_long(text: str | None, max_chars: int = MAX_MESSAGE_CHARS) -> bool:
    return bool(text) and len(text or "") > max_chars

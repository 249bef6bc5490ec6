"""Personal data is masked before Rasa stores or logs it.

Rasa Open Source's tracker store keeps the raw user text (its PII masking is a Rasa
Pro feature), so the entry guard (bot/channels/entry_guard.py) masks every message
before Rasa's `on_new_message` sees it: NLU, the tracker store, logs and tickets then
only ever see masked text. What counts as personal data is bot/privacy.py's rule.
"""

from __future__ import annotations

from rasa.core.channels.channel import UserMessage

from bot.privacy import mask_text


def mask_message(message: UserMessage) -> None:
    """Replace the message's personal data (in place: Rasa reads this object)."""
    if message.text:
        message.text = mask_text(message.text)

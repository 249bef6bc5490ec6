"""What the actions read about the latest message, through rasa-sdk's Tracker API.

The article names (`faq/<id>`, the button's `article_id`) are read in
bot/content/faq_intent.py; this module adds only what the SDK leaves to us.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from bot.content.faq_intent import FAQ, full_intent, selected_article

FALLBACK_INTENT = "nlu_fallback"


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    """The first non-empty value of `entity` in the latest message."""
    return next((str(v) for v in tracker.get_latest_entity_values(entity) if v), None)


def latest_intent(tracker: Tracker) -> str | None:
    """The latest message's intent as NLU ranked it (nlu_fallback included)."""
    return tracker.get_intent_of_latest_message(skip_fallback_intent=False)


def latest_message_id(tracker: Tracker) -> str | None:
    """Rasa's id of the last user message: the key that makes a retried action a no-op."""
    event = tracker.get_last_event_for("user")
    return event.get("message_id") if event else None


def best_guess(message: dict[str, Any]) -> tuple[str | None, float | None]:
    """The most likely real intent (never nlu_fallback) and its confidence, as
    `faq/<id>` for articles."""
    for entry in message.get("intent_ranking") or []:
        name = entry.get("name")
        if name and name != FALLBACK_INTENT:
            if name == FAQ and (article := selected_article(message)):
                name = full_intent(article)
            return name, entry.get("confidence")
    return None, None

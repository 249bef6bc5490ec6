"""Pure helpers that read NLU results from `tracker.latest_message` and the events."""

from __future__ import annotations

from typing import Any

FAQ = "faq"
FAQ_PREFIX = "faq/"
ARTICLE_ENTITY = "article_id"


def chosen_article_id(message: dict[str, Any]) -> str | None:
    """The article a button payload names (`/faq{"article_id": …}`), if any."""
    for entity in message.get("entities") or []:
        if entity.get("entity") == ARTICLE_ENTITY and entity.get("value"):
            return str(entity["value"])
    return None


def selected_article_id(message: dict[str, Any]) -> str | None:
    """The article a message asks for: a button's `article_id`, else the selector's pick."""
    if chosen := chosen_article_id(message):
        return chosen
    response = ((message.get("response_selector") or {}).get(FAQ) or {}).get("response") or {}
    key = response.get("intent_response_key") or ""
    return key[len(FAQ_PREFIX) :] if key.startswith(FAQ_PREFIX) else None


def best_guess(message: dict[str, Any]) -> tuple[str | None, float | None]:
    """The most likely real intent (never nlu_fallback), as `faq/<id>` for articles."""
    for entry in message.get("intent_ranking") or []:
        name = entry.get("name")
        if name and name != "nlu_fallback":
            if name == FAQ and (article := selected_article_id(message)):
                name = FAQ_PREFIX + article
            return name, entry.get("confidence")
    return None, None


def latest_message_id(events: list[dict[str, Any]]) -> str | None:
    """Rasa's id of the last user message: the key that makes a retried action a no-op."""
    for event in reversed(events):
        if event.get("event") == "user":
            return event.get("message_id")
    return None

"""Small real rasa_sdk Trackers for action unit tests."""

from __future__ import annotations

import uuid
from typing import Any

from rasa_sdk import Tracker


def parse_data(
    text: str,
    intent: str,
    confidence: float = 0.9,
    *,
    article: str | None = None,
    ranking: list[tuple[str, float]] | None = None,
    entities: list[dict] | None = None,
    confirmed: bool = True,
) -> dict[str, Any]:
    """An NLU result as Rasa puts it into `latest_message`. `confirmed`: the nearest
    training examples carry the top label (bot/nlu/nearest.py), as for most messages."""
    message: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "entities": entities or [],
    }
    if article or ranking:
        ranking = ranking or [(article, confidence)]
        message["response_selector"] = {
            "all_retrieval_intents": ["faq"],
            "faq": {
                "response": {
                    "intent_response_key": f"faq/{ranking[0][0]}",
                    "confidence": ranking[0][1],
                },
                "ranking": [
                    {"id": i, "intent_response_key": f"faq/{a}", "confidence": c}
                    for i, (a, c) in enumerate(ranking)
                ],
            },
        }
    if confirmed:
        # The classifier's top label; the FallbackClassifier's verdict does not change it.
        top = f"faq/{ranking[0][0]}" if ranking and intent in ("faq", "nlu_fallback") else intent
        message["nearest_examples"] = {"label": top, "similarity": 0.9}
    return message


def tracker(
    latest: dict[str, Any],
    *,
    slots: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    sender: str = "anon:rest:user-1",  # what the REST channel makes of sender "user-1"
    channel: str = "rest",
    message_id: str | None = None,
) -> Tracker:
    # Rasa gives every user message an id (uuid4 hex) unless the channel sets one.
    user_event = {
        "event": "user",
        "text": latest["text"],
        "parse_data": latest,
        "input_channel": channel,
        "message_id": message_id or uuid.uuid4().hex,
    }
    return Tracker(
        sender_id=sender,
        slots=slots or {},
        latest_message=latest,
        events=[*(history or []), user_event],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def user_event(text: str, intent: str, **kwargs: Any) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "parse_data": parse_data(text, intent, **kwargs),
        "input_channel": "rest",
        "message_id": uuid.uuid4().hex,
    }

"""The conversation that led to a ticket, built from Rasa tracker events.

Staff read the transcript instead of asking the user to repeat themselves. Button
clicks arrive as payloads ("/affirm"); we show the button's title the user saw and
keep the payload beside it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from bot.privacy import mask_text

# Messages that steer the dialogue rather than describe the problem.
NON_QUESTION_INTENTS = frozenset(
    {
        "greet",
        "goodbye",
        "thanks",
        "affirm",
        "deny",
        "bot_challenge",
        "cancel",
        "inform",
        "request_human",
        "ticket_status",
        "change_ticket",
    }
)


def _timestamp(event: dict[str, Any]) -> str | None:
    value = event.get("timestamp")
    if value is None:
        return None
    return datetime.fromtimestamp(float(value), tz=timezone.utc).isoformat()


def build_transcript(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """User and bot turns in order: sender, masked text, timestamp, buttons, payload."""
    turns: list[dict[str, Any]] = []
    last_buttons: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            text = event.get("text") or ""
            payload = None
            if text.startswith("/"):
                payload = text
                titles = [b.get("title") for b in last_buttons if b.get("payload") == text]
                text = titles[0] if titles else text
            turns.append(
                {
                    "sender": "user",
                    "text": mask_text(text),
                    "timestamp": _timestamp(event),
                    "buttons": None,
                    "payload": payload,
                }
            )
        elif kind == "bot":
            buttons = (event.get("data") or {}).get("buttons") or None
            last_buttons = buttons or []
            turns.append(
                {
                    "sender": "bot",
                    "text": mask_text(event.get("text") or ""),
                    "timestamp": _timestamp(event),
                    "buttons": buttons,
                    "payload": None,
                }
            )
    return turns


def _intent(event: dict[str, Any]) -> str | None:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def question_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """User messages that describe a problem (not "ja", buttons or form answers)."""
    questions: list[dict[str, Any]] = []
    in_form = False
    for event in events:
        kind = event.get("event")
        if kind == "active_loop":
            in_form = event.get("name") is not None
        if kind == "action" and event.get("name") == "action_create_ticket":
            questions.clear()  # a new hand-off starts from what came after the last one
        if kind != "user" or in_form:
            continue
        text = (event.get("text") or "").strip()
        if text and not text.startswith("/") and _intent(event) not in NON_QUESTION_INTENTS:
            questions.append(event)
    return questions


def last_questions(events: list[dict[str, Any]], limit: int = 2) -> list[str]:
    """The user's last real questions before the hand-off (masked), oldest first."""
    return [mask_text(e["text"].strip()) for e in question_events(events)[-limit:]]

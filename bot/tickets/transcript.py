"""The conversation that led to a ticket: built from Rasa tracker events when the
ticket is stored, read back as chat turns for the staff page and the JSON API.

Staff read the transcript instead of asking the user to repeat themselves. Button
clicks arrive as payloads ("/affirm"); we show the title of the button the user saw
(`ShownButtons`, the one rule for both directions) and keep the payload beside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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


class ShownButtons:
    """The buttons the user last saw: a click is named by its button's title.

    They stay shown until the bot offers other buttons (a plain text in between
    leaves them clickable in the chat window).
    """

    def __init__(self) -> None:
        self._titles: dict[str, str] = {}

    def show(self, buttons: list[dict[str, Any]] | None) -> None:
        if buttons:
            titles: dict[str, str] = {}
            for button in buttons:
                titles.setdefault(str(button.get("payload", "")), str(button.get("title", "")))
            self._titles = titles

    def title_of(self, payload: str) -> str | None:
        return self._titles.get(payload)


def _timestamp(event: dict[str, Any]) -> str | None:
    value = event.get("timestamp")
    if value is None:
        return None
    return datetime.fromtimestamp(float(value), tz=timezone.utc).isoformat()


def build_transcript(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """User and bot turns in order: sender, masked text, timestamp, buttons, payload."""
    turns: list[dict[str, Any]] = []
    shown = ShownButtons()
    for event in events:
        kind = event.get("event")
        if kind == "user":
            text = event.get("text") or ""
            payload = None
            if text.startswith("/"):
                payload = text
                text = shown.title_of(text) or text
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
            shown.show(buttons)
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


# --- reading a stored transcript ----------------------------------------------------


@dataclass(frozen=True)
class Turn:
    sender: str  # "user" | "bot"
    text: str
    at: datetime | None
    buttons: list[dict[str, str]]
    clicked: str | None  # title of the button the user clicked, if this turn was a click


def _stored_time(value: Any) -> datetime | None:
    """Stored as ISO text (build_transcript) or epoch seconds (older rows)."""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


def read_transcript(raw: str | None) -> list[Turn]:
    """A ticket's stored transcript as chat turns; malformed entries are skipped, not fatal."""
    try:
        entries = json.loads(raw or "[]")
    except ValueError:
        return []
    if not isinstance(entries, list):
        return []
    turns: list[Turn] = []
    shown = ShownButtons()
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        sender = "user" if entry.get("sender") == "user" else "bot"
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in entry.get("buttons") or []
            if isinstance(b, dict)
        ]
        payload = entry.get("payload")
        clicked = None
        if sender == "user" and isinstance(payload, str) and payload:
            clicked = shown.title_of(payload) or payload
        shown.show(buttons)
        turns.append(
            Turn(
                sender=sender,
                text=str(entry.get("text") or ""),
                at=_stored_time(entry.get("timestamp")),
                buttons=buttons,
                clicked=clicked,
            )
        )
    return turns

"""Answers that were probably wrong, read from the conversation when the next turn runs.

Rakel may answer with confidence and still be wrong; the user's next message tells.
The action that already runs at that turn records it (bot.feedback.PROBABLY_WRONG_KINDS):

- "asked_for_person": the message right after an article asks for a person
  (action_prepare_ticket), unless the article itself sends the user to the service desk;
- "rephrased": the next message, within REPHRASE_WINDOW of the answer, gets a
  different article or a "Mente du …?", or begins with "nei" / "ikke det"
  (action_answer_article). A follow-up the conversation's topic placed ("og
  kameraet?") is a new question, not a rephrase; a picked button is a choice;
- "none_fit": "Ingen av disse" to "Mente du …?" (action_none_fit).

The row keeps the question that got the answer, the article(s) answered and the
message that followed; "nei" to "Hjalp dette?" stays "not_helped" (bot/actions/feedback.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker

from bot.actions import services
from bot.actions.context import Plan
from bot.actions.nlu import best_guess, latest_message_id
from bot.content.faq_intent import full_intent
from bot.feedback import record_miss

# "The next message, within 2 minutes" (issue 18): seconds from the answer shown.
REPHRASE_WINDOW = 120.0
_REJECTION = re.compile(r"^\W*(nei|nope|ikke det|ikkje det|ikke den|ikkje den)\b", re.IGNORECASE)


@dataclass(frozen=True)
class PreviousAnswer:
    """The article Rakel answered the user's previous message with."""

    question: str
    article: str
    confidence: float | None
    answered_at: float | None
    needs_person: bool


def _user_indexes(events: list[dict[str, Any]]) -> list[int]:
    return [i for i, e in enumerate(events) if e.get("event") == "user"]


def _question_text(events: list[dict[str, Any]], users: list[int]) -> str | None:
    """The latest typed message before the current one (a button click shows its
    payload, so the question is the text typed before it)."""
    for index in reversed(users[:-1]):
        text = events[index].get("text") or ""
        if text and not text.startswith("/"):
            return text
    return None


def previous_answer(tracker: Tracker) -> PreviousAnswer | None:
    """The article answered to the message before the latest one, if that turn was one."""
    events = tracker.applied_events()
    users = _user_indexes(events)
    if len(users) < 2:
        return None
    previous, current = users[-2], users[-1]
    article = needs_person = answered_at = None
    for event in events[previous + 1 : current]:
        if event.get("event") == "slot" and event.get("name") == "last_article":
            article = event.get("value")
        elif event.get("event") == "slot" and event.get("name") == "article_needs_person":
            needs_person = event.get("value")
        elif event.get("event") == "bot" and event.get("timestamp") is not None:
            answered_at = answered_at or float(event["timestamp"])
    question = _question_text(events, users)
    if not article or not question:
        return None
    asked = events[previous]
    intent, confidence = best_guess(asked.get("parse_data") or {})
    if answered_at is None and asked.get("timestamp") is not None:
        answered_at = float(asked["timestamp"])
    return PreviousAnswer(
        question=question,
        article=str(article),
        confidence=confidence if intent == full_intent(str(article)) else None,
        answered_at=answered_at,
        needs_person=bool(needs_person),
    )


def _seconds_since(tracker: Tracker, answer: PreviousAnswer) -> float | None:
    event = tracker.get_last_event_for("user")
    if not event or event.get("timestamp") is None or answer.answered_at is None:
        return None
    return float(event["timestamp"]) - answer.answered_at


def rephrased(tracker: Tracker, plan: Plan) -> PreviousAnswer | None:
    """The previous answer, when the latest message (planned as `plan`) rephrases it."""
    answer = previous_answer(tracker)
    if answer is None or plan.from_button:
        return None
    elapsed = _seconds_since(tracker, answer)
    if elapsed is None or elapsed > REPHRASE_WINDOW:
        return None
    text = tracker.latest_message.get("text") or ""
    if _REJECTION.match(text) or plan.kind == "suggest":
        return answer
    if plan.article and plan.article != answer.article and not plan.in_context:
        return answer
    return None


async def record(
    tracker: Tracker,
    kind: str,
    answer_text: str,
    answered: str,
    confidence: float | None = None,
) -> None:
    """Store the probably-wrong answer to `answer_text` with the latest message after it."""
    intent = full_intent(answered.split(",")[0]) if answered else None
    latest = tracker.latest_message.get("text") or ""
    # A button click ("/deny") is named by the row's kind, not by its payload.
    followed_by = None if latest.startswith("/") else latest
    await services.record_safely(
        lambda session: record_miss(
            session,
            conversation_id=tracker.sender_id,
            channel=tracker.get_latest_input_channel(),
            kind=kind,
            text=answer_text,
            predicted_intent=intent,
            confidence=confidence,
            message_id=latest_message_id(tracker),
            answered=answered,
            followed_by=followed_by,
        ),
        f"{kind} answer",
    )


async def after_answer(tracker: Tracker, plan: Plan) -> None:
    """action_answer_article: record the previous answer if this message rephrases it."""
    if answer := rephrased(tracker, plan):
        await record(tracker, "rephrased", answer.question, answer.article, answer.confidence)


async def after_person_request(tracker: Tracker) -> None:
    """action_prepare_ticket: a person asked for right after an article."""
    if tracker.get_intent_of_latest_message() != "request_human":
        return
    answer = previous_answer(tracker)
    if answer and not answer.needs_person:
        await record(
            tracker, "asked_for_person", answer.question, answer.article, answer.confidence
        )


async def after_none_fit(tracker: Tracker) -> None:
    """action_none_fit: none of the "Mente du …?" suggestions (slot next_best) fit."""
    events = tracker.applied_events()
    users = _user_indexes(events)
    question = _question_text(events, users)
    if question is None:
        return
    suggested = [str(a) for a in tracker.get_slot("next_best") or []]
    await record(tracker, "none_fit", question, ",".join(suggested))

"""Records of how well Rakel did: "Hjalp dette?" answers and messages it missed.

Both are written by custom actions, and an action call may run twice: in the scaled
profile nginx resends it to the other action server when the first one dies before
answering. Given the id of the user message the action answers, a second run
returns the first run's row instead of adding another.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from bot.models import Feedback, NluMiss
from bot.privacy import mask_text

# Answers that were probably wrong: "nei" to "Hjalp dette?" (bot/actions/feedback.py),
# and those Rakel was sure enough to give (bot/actions/probably_wrong.py): the user
# asked for a person right after an article, rephrased within two minutes, or said
# "Ingen av disse" to "Mente du …?". The statistics' "probably wrong" counts these.
PROBABLY_WRONG_KINDS = ("not_helped", "asked_for_person", "rephrased", "none_fit")
# What the actions record; "staff_flagged" rows are made by staff from a ticket's
# conversation (bot/web/nlu_review.py).
MISS_KINDS = ("fallback", "out_of_scope", *PROBABLY_WRONG_KINDS, "staff_flagged")
Row = TypeVar("Row", Feedback, NluMiss)


def _add_once(session: Session, row: Row, **key: str) -> Row:
    """Add `row`, unless a row with its message-id key is stored: return that one."""
    if row.message_id and (
        stored := session.query(type(row)).filter_by(message_id=row.message_id, **key).one_or_none()
    ):
        return stored
    session.add(row)
    return row


def record_feedback(
    session: Session,
    *,
    conversation_id: str,
    channel: str | None,
    article_id: str | None,
    helped: bool,
    message_id: str | None = None,
) -> Feedback:
    return _add_once(
        session,
        Feedback(
            conversation_id=conversation_id,
            channel=channel,
            article_id=article_id,
            helped=helped,
            message_id=message_id,
        ),
    )


def record_miss(
    session: Session,
    *,
    conversation_id: str,
    channel: str | None,
    kind: str,
    text: str,
    predicted_intent: str | None,
    confidence: float | None,
    message_id: str | None = None,
    answered: str | None = None,
    followed_by: str | None = None,
) -> NluMiss:
    """Store a missed message once. The channels mask text on entry; it is masked
    again here (masking is idempotent) because rows outlive the conversation."""
    if kind not in MISS_KINDS:
        raise ValueError(f"unknown miss kind {kind!r}; expected one of {MISS_KINDS}")
    return _add_once(
        session,
        NluMiss(
            conversation_id=conversation_id,
            channel=channel,
            kind=kind,
            text=mask_text(text),
            predicted_intent=predicted_intent,
            confidence=confidence,
            message_id=message_id,
            answered=answered,
            followed_by=mask_text(followed_by) if followed_by else None,
        ),
        kind=kind,
    )

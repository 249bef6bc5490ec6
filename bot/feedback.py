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

MISS_KINDS = ("fallback", "out_of_scope", "not_helped")
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
) -> NluMiss:
    if kind not in MISS_KINDS:
        raise ValueError(f"unknown miss kind {kind!r}; expected one of {MISS_KINDS}")
    return _add_once(
        session,
        NluMiss(
            conversation_id=conversation_id,
            channel=channel,
            kind=kind,
            text=text,
            predicted_intent=predicted_intent,
            confidence=confidence,
            message_id=message_id,
        ),
        kind=kind,
    )

"""Records of how well Rakel did: "Hjalp dette?" answers and messages it missed.

Both are written by custom actions, and an action call may run twice: in the scaled
profile nginx resends it to the other action server when the first one dies before
answering. Given the id of the user message the action answers, a second run
returns the first run's row instead of adding another.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.models import Feedback, NluMiss

MISS_KINDS = ("fallback", "out_of_scope", "not_helped")


def record_feedback(
    session: Session, *, conversation_id: str, channel: str | None,
    article_id: str | None, helped: bool, message_id: str | None = None,
) -> Feedback:
    if message_id and (row := session.query(Feedback).filter_by(
            message_id=message_id).one_or_none()):
        return row
    row = Feedback(conversation_id=conversation_id, channel=channel,
                   article_id=article_id, helped=helped, message_id=message_id)
    session.add(row)
    return row


def record_miss(
    session: Session, *, conversation_id: str, channel: str | None, kind: str,
    text: str, predicted_intent: str | None, confidence: float | None,
    message_id: str | None = None,
) -> NluMiss:
    if kind not in MISS_KINDS:
        raise ValueError(f"unknown miss kind {kind!r}; expected one of {MISS_KINDS}")
    if message_id and (row := session.query(NluMiss).filter_by(
            message_id=message_id, kind=kind).one_or_none()):
        return row
    row = NluMiss(conversation_id=conversation_id, channel=channel, kind=kind, text=text,
                  predicted_intent=predicted_intent, confidence=confidence,
                  message_id=message_id)
    session.add(row)
    return row

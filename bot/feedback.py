"""Records of how well Rakel did: "Hjalp dette?" answers and messages it missed."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.models import Feedback, NluMiss

MISS_KINDS = ("fallback", "out_of_scope", "not_helped")


def record_feedback(
    session: Session, *, conversation_id: str, channel: str | None,
    article_id: str | None, helped: bool,
) -> Feedback:
    row = Feedback(conversation_id=conversation_id, channel=channel,
                   article_id=article_id, helped=helped)
    session.add(row)
    return row


def record_miss(
    session: Session, *, conversation_id: str, channel: str | None, kind: str,
    text: str, predicted_intent: str | None, confidence: float | None,
) -> NluMiss:
    if kind not in MISS_KINDS:
        raise ValueError(f"unknown miss kind {kind!r}; expected one of {MISS_KINDS}")
    row = NluMiss(conversation_id=conversation_id, channel=channel, kind=kind, text=text,
                  predicted_intent=predicted_intent, confidence=confidence)
    session.add(row)
    return row

"""Rakel's own tables. Schema changes go through Alembic (bot/migrations)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Boolean, Column, DateTime, Float, Integer, MetaData, String, Text
from sqlalchemy.orm import declarative_base

# Explicit constraint names so migrations behave the same on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
Base = declarative_base(metadata=metadata)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Feedback(Base):
    """A user's answer to "Hjalp dette?" after a knowledge article."""

    __tablename__ = "feedback"

    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(64), nullable=True)
    article_id = Column(String(128), nullable=True, index=True)
    helped = Column(Boolean, nullable=False)


class NluMiss(Base):
    """A user message Rakel did not handle well: material for improving the NLU.

    kind: "fallback" (not understood), "out_of_scope", or "not_helped" (the user
    said "nei" to "Hjalp dette?"). Staff may set `corrected_intent` in the review
    pages and export the corrected messages as Rasa training data.
    """

    __tablename__ = "nlu_misses"

    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(64), nullable=True)
    kind = Column(String(32), nullable=False, index=True)
    text = Column(Text, nullable=False)
    predicted_intent = Column(String(128), nullable=True)
    confidence = Column(Float, nullable=True)
    corrected_intent = Column(String(128), nullable=True)
    corrected_by = Column(String(128), nullable=True)
    corrected_at = Column(DateTime(timezone=True), nullable=True)

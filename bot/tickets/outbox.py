"""The transactional outboxes: tickets waiting for the external ITSM system, and
messages waiting for their requester (bot/user_messages.py).

Rows are written by `create_ticket` in the ticket's own transaction, so a ticket can
never exist without its delivery job (or the reverse). Workers *lease* rows instead
of holding a lock during the HTTP call: claiming moves `next_attempt_at` past the
lease, so a worker that dies (even SIGKILL) simply lets its rows fall due again.
A repeat delivery carries the same Idempotency-Key, so the receiver sees each ticket
once. On PostgreSQL the claim uses FOR UPDATE SKIP LOCKED, so concurrent workers
never claim the same row; SQLite's BEGIN IMMEDIATE serialises claims.

Both outboxes are tables of the same shape (ticket_id, idempotency_key, payload,
attempts, next_attempt_at, delivered_at, last_error); an `Outbox` names the table and
how a delivery is audited on the ticket, so both share one lease algorithm.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import OutboxMessage, TicketAudit, UserMessage, utcnow

ERROR_LENGTH = 500


@dataclass(frozen=True)
class Outbox:
    table: Any  # a model with the outbox columns
    actor: str  # who the ticket's "delivered" audit row names
    action: str


ITSM = Outbox(OutboxMessage, actor="itsm", action="delivered")
USER_MESSAGES = Outbox(UserMessage, actor="rakel", action="messaged")


@dataclass(frozen=True)
class Claim:
    id: int
    ticket_id: int
    idempotency_key: str
    payload: str
    attempts: int

    @classmethod
    def of(cls, row: Any) -> Claim:
        return cls(row.id, row.ticket_id, row.idempotency_key, row.payload, row.attempts)


def claim_due(
    session: Session,
    *,
    lease_seconds: float,
    limit: int = 10,
    now: datetime | None = None,
    outbox: Outbox = ITSM,
    where: Sequence[Any] = (),
) -> list[Claim]:
    """Lease up to `limit` due rows; `where` narrows them (e.g. messages sent by Teams)."""
    now = now or utcnow()
    table = outbox.table
    query = (
        select(table)
        .where(table.delivered_at.is_(None), table.next_attempt_at <= now, *where)
        .order_by(table.next_attempt_at, table.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claims = []
    for row in session.execute(query).scalars():
        row.attempts += 1
        row.next_attempt_at = now + timedelta(seconds=lease_seconds)
        claims.append(Claim.of(row))
    return claims


def mark_delivered(
    session: Session, claim: Claim, *, now: datetime | None = None, outbox: Outbox = ITSM
) -> bool:
    """Record the delivery once; False if another worker already recorded it."""
    row = session.get(outbox.table, claim.id)
    if row is None or row.delivered_at is not None:
        return False
    now = now or utcnow()
    row.delivered_at = now
    row.last_error = None
    session.add(
        TicketAudit(
            ticket_id=row.ticket_id,
            at=now,
            actor=outbox.actor,
            action=outbox.action,
            new_value=row.idempotency_key,
        )
    )
    return True


def mark_failed(
    session: Session,
    claim: Claim,
    error: str,
    delay_seconds: float,
    *,
    now: datetime | None = None,
    outbox: Outbox = ITSM,
) -> None:
    row = session.get(outbox.table, claim.id)
    if row is None or row.delivered_at is not None:
        return
    row.last_error = error[:ERROR_LENGTH]
    row.next_attempt_at = (now or utcnow()) + timedelta(seconds=delay_seconds)


def backoff_seconds(
    attempts: int, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random.

    The random half spreads retries of many tickets after an ITSM outage, so they do
    not all hit the recovering system in the same second.
    """
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return delay / 2 + (rng or random).uniform(0, delay / 2)


def pending_count(session: Session, outbox: Outbox = ITSM) -> int:
    return session.query(outbox.table).filter(outbox.table.delivered_at.is_(None)).count()

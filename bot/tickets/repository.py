"""Ticket storage: every change is one transaction with its audit trail.

Callers pass a Session from `Database.unit_of_work()`; nothing here commits, so a
ticket, its audit row and its outbox message are written together or not at all.
Free text is masked again here (it already was at channel entry): defence in depth,
because staff notes and future channels may bypass the channel classes.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import (
    TICKET_ID_OFFSET,
    TICKET_ID_PREFIX,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    OutboxMessage,
    Ticket,
    TicketAudit,
    TicketNote,
    utcnow,
)
from bot.privacy import mask_text
from bot.tickets.labels import municipalities

RAKEL_ACTOR = "rakel"
SUMMARY_LENGTH = 200
CLOSED_STATUSES = ("lost", "lukket")
# Fields staff (or Rakel) may change after creation; everything else is history.
EDITABLE_FIELDS = (
    "status",
    "priority",
    "assignee",
    "municipality",
    "category",
    "summary",
    "contact",
)

_PUBLIC_ID = re.compile(rf"(?i)(?:{TICKET_ID_PREFIX[:-1]}\s*-?\s*)?(\d{{4,9}})")


class TicketError(ValueError):
    """A ticket field has a value the service desk does not use; `field` names it.

    The staff pages and the JSON API show `field` and `message` as they are, so the
    rules here are the only copy of what a ticket may hold.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def public_id_for(ticket_id: int) -> str:
    return f"{TICKET_ID_PREFIX}{TICKET_ID_OFFSET + ticket_id}"


def parse_public_id(text: str | None) -> int | None:
    """The database id in "RAK-1042", "rak 1042" or "1042"; None if there is none."""
    match = _PUBLIC_ID.search(text or "")
    if not match:
        return None
    number = int(match.group(1)) - TICKET_ID_OFFSET
    return number if number > 0 else None


def check_field(field: str, value: Any) -> None:
    """TicketError unless `value` is one the service desk uses for `field`."""
    allowed: Iterable[Any] | None = {
        "status": TICKET_STATUSES,
        "priority": TICKET_PRIORITIES,
        "municipality": [*municipalities(), None],
    }.get(field)
    if allowed is not None and value not in allowed:
        named = ", ".join(str(option) for option in allowed if option is not None)
        raise TicketError(field, f"must be one of {named}")


def summary_from(description: str) -> str:
    """First line of the description, shortened on a word boundary."""
    first = (description.strip().splitlines() or [""])[0].strip()
    if len(first) <= SUMMARY_LENGTH:
        return first
    return first[: SUMMARY_LENGTH - 1].rsplit(" ", 1)[0] + "…"


def mask_transcript(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**turn, "text": mask_text(turn.get("text") or "")} for turn in turns]


def itsm_payload(ticket: Ticket) -> dict[str, Any]:
    """What the external ITSM system receives (JSON)."""
    return {
        "id": ticket.public_id,
        "created_at": ticket.created_at.isoformat(),
        "channel": ticket.channel,
        "requester": {
            "id": ticket.requester_id,
            "name": ticket.requester_name,
            "contact": ticket.contact,
        },
        "municipality": ticket.municipality,
        "category": ticket.category,
        "priority": ticket.priority,
        "summary": ticket.summary,
        "description": ticket.description,
        "status": ticket.status,
        "transcript": json.loads(ticket.transcript),
    }


def create_ticket(
    session: Session,
    *,
    channel: str,
    conversation_id: str,
    requester_id: str,
    description: str,
    category: str,
    priority: str = "normal",
    municipality: str | None = None,
    requester_name: str | None = None,
    contact: str | None = None,
    summary: str | None = None,
    transcript: list[dict[str, Any]] | None = None,
    outbox: bool = False,
    actor: str = RAKEL_ACTOR,
    reuse_within: timedelta | None = None,
) -> Ticket:
    """A new ticket with its public id, "created" audit row and (optionally) outbox row.

    With `reuse_within`, the ticket this conversation created with the same description
    in that time is returned instead of a second one: a confirmation can arrive twice
    when the action server stored the ticket and died before Rasa heard the answer.
    """
    check_field("priority", priority)
    check_field("municipality", municipality)
    description = mask_text(description).strip()
    if not description:
        raise TicketError("description", "must not be empty")
    now = utcnow()
    if reuse_within is not None:
        existing = (
            session.query(Ticket)
            .filter(
                Ticket.conversation_id == conversation_id,
                Ticket.description == description,
                Ticket.created_at >= now - reuse_within,
            )
            .order_by(Ticket.id.desc())
            .first()
        )
        if existing is not None:
            return existing
    ticket = Ticket(
        created_at=now,
        updated_at=now,
        channel=channel,
        conversation_id=conversation_id,
        requester_id=requester_id,
        requester_name=requester_name,
        contact=mask_text(contact) if contact else None,
        municipality=municipality,
        category=category,
        priority=priority,
        summary=mask_text(summary or summary_from(description))[:SUMMARY_LENGTH],
        description=description,
        status="ny",
        transcript=json.dumps(mask_transcript(transcript or []), ensure_ascii=False),
    )
    session.add(ticket)
    session.flush()  # the database assigns the id; the public id derives from it
    ticket.public_id = public_id_for(ticket.id)
    session.add(TicketAudit(ticket_id=ticket.id, at=now, actor=actor, action="created"))
    if outbox:
        session.add(
            OutboxMessage(
                ticket_id=ticket.id,
                created_at=now,
                next_attempt_at=now,
                idempotency_key=f"rakel-{uuid.uuid4()}",
                payload=json.dumps(itsm_payload(ticket), ensure_ascii=False),
            )
        )
    session.flush()
    return ticket


def update_ticket(session: Session, ticket: Ticket, actor: str, **changes: Any) -> Ticket:
    """Apply changes; one audit row per field whose value actually changed.

    Every value is checked before the first is applied: a refused change leaves the
    ticket object as it was, not only the database (the transaction rolls back).
    """
    for field, value in changes.items():
        if field not in EDITABLE_FIELDS:
            raise TicketError(field, f"cannot be changed; editable: {', '.join(EDITABLE_FIELDS)}")
        check_field(field, value)
    now = utcnow()
    changed = False
    for field, value in changes.items():
        if isinstance(value, str) and field in ("summary", "contact"):
            value = mask_text(value)
        old = getattr(ticket, field)
        if old == value:
            continue
        setattr(ticket, field, value)
        session.add(
            TicketAudit(
                ticket_id=ticket.id,
                at=now,
                actor=actor,
                action="changed",
                field=field,
                old_value=_text(old),
                new_value=_text(value),
            )
        )
        changed = True
    if changed:
        ticket.updated_at = now
    session.flush()
    return ticket


def add_note(session: Session, ticket: Ticket, author: str, text: str) -> TicketNote:
    text = mask_text(text).strip()
    if not text:
        raise TicketError("note", "must not be empty")
    now = utcnow()
    note = TicketNote(ticket_id=ticket.id, created_at=now, author=author, text=text)
    session.add(note)
    session.add(TicketAudit(ticket_id=ticket.id, at=now, actor=author, action="note"))
    ticket.updated_at = now
    session.flush()
    return note


def find_for_requester(session: Session, public_id: str, requester_id: str) -> Ticket | None:
    """The ticket, only if it belongs to this (verified) requester: others look non-existent."""
    return _find(session, public_id, Ticket.requester_id == requester_id)


def find_in_conversation(session: Session, public_id: str, conversation_id: str) -> Ticket | None:
    """The ticket, only if this conversation created it (what an anonymous user may see)."""
    return _find(session, public_id, Ticket.conversation_id == conversation_id)


def latest_for_requester(session: Session, requester_id: str, limit: int = 3) -> list[Ticket]:
    return _latest(session, Ticket.requester_id == requester_id, limit)


def latest_in_conversation(session: Session, conversation_id: str, limit: int = 3) -> list[Ticket]:
    return _latest(session, Ticket.conversation_id == conversation_id, limit)


def _find(session: Session, public_id: str, owned: Any) -> Ticket | None:
    number = parse_public_id(public_id)
    if number is None:
        return None
    return session.execute(select(Ticket).where(Ticket.id == number, owned)).scalar_one_or_none()


def _latest(session: Session, owned: Any, limit: int) -> list[Ticket]:
    return list(
        session.execute(
            select(Ticket).where(owned).order_by(Ticket.id.desc()).limit(limit)
        ).scalars()
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)

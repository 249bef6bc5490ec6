"""Queries and changes behind the staff queue, the ticket page and the JSON API.

Changes go through bot/tickets/repository.py (one TicketAudit row per changed
field, notes masked); this module adds what staff may change and the queries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.models import (
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    Ticket,
    TicketAudit,
    TicketNote,
)
from bot.tickets import repository

PER_PAGE = 25
MAX_PER_PAGE = 100
MAX_NOTE_LENGTH = 5000
MAX_ASSIGNEE_LENGTH = 128
# Sort keys offered to staff: name -> (column, descending)
SORTS = {
    "nyeste": (Ticket.created_at, True),
    "eldste": (Ticket.created_at, False),
    "oppdatert": (Ticket.updated_at, True),
    "prioritet": (Ticket.priority, False),
    "status": (Ticket.status, False),
}
# Priority sorts by urgency, not alphabetically.
_PRIORITY_RANK = {p: i for i, p in enumerate(TICKET_PRIORITIES)}


class TicketInputError(ValueError):
    """A filter or change that is not allowed; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class TicketFilter:
    status: str | None = None
    category: str | None = None
    municipality: str | None = None
    priority: str | None = None
    q: str | None = None
    sort: str = "nyeste"
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_query(cls, query: Mapping[str, str], *, strict: bool = False) -> TicketFilter:
        """Parse query parameters. strict (the API): bad values raise; pages ignore them."""

        def pick(name: str, allowed: tuple[str, ...] | None = None) -> str | None:
            value = (query.get(name) or "").strip()
            if not value:
                return None
            if allowed is not None and value not in allowed:
                if strict:
                    raise TicketInputError(name, f"must be one of {', '.join(allowed)}")
                return None
            return value[:200]

        def number(name: str, default: int, upper: int) -> int:
            raw = (query.get(name) or "").strip()
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError:
                if strict:
                    raise TicketInputError(name, "must be a whole number") from None
                return default
            if not 1 <= value <= upper:
                if strict:
                    raise TicketInputError(name, f"must be between 1 and {upper}")
                return min(max(value, 1), upper)
            return value

        return cls(
            status=pick("status", TICKET_STATUSES),
            category=pick("category"),
            municipality=pick("municipality"),
            priority=pick("priority", TICKET_PRIORITIES),
            q=pick("q"),
            sort=pick("sort", tuple(SORTS)) or "nyeste",
            page=number("page", 1, 100_000),
            per_page=number("per_page", PER_PAGE, MAX_PER_PAGE),
        )

    def query_args(self, **overrides: Any) -> dict[str, str]:
        """This filter as query parameters (for links to other pages or sorts)."""
        values = replace(self, **overrides)
        args = {
            "status": values.status,
            "category": values.category,
            "municipality": values.municipality,
            "priority": values.priority,
            "q": values.q,
            "sort": values.sort if values.sort != "nyeste" else None,
            "page": str(values.page) if values.page != 1 else None,
        }
        return {k: v for k, v in args.items() if v}


@dataclass(frozen=True)
class TicketPage:
    tickets: list[Ticket]
    total: int
    page: int
    pages: int


def _filtered(statement, f: TicketFilter, *, with_status: bool = True):  # type: ignore[no-untyped-def]
    if with_status and f.status:
        statement = statement.where(Ticket.status == f.status)
    if f.category:
        statement = statement.where(Ticket.category == f.category)
    if f.municipality:
        statement = statement.where(Ticket.municipality == f.municipality)
    if f.priority:
        statement = statement.where(Ticket.priority == f.priority)
    if f.q:
        # Bound parameter; LIKE wildcards in the search text are matched literally.
        escaped = f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped.lower()}%"
        statement = statement.where(
            or_(
                func.lower(Ticket.summary).like(pattern, escape="\\"),
                func.lower(Ticket.description).like(pattern, escape="\\"),
                func.lower(Ticket.public_id).like(pattern, escape="\\"),
            )
        )
    return statement


def list_tickets(session: Session, f: TicketFilter) -> TicketPage:
    total = session.execute(_filtered(select(func.count(Ticket.id)), f)).scalar_one()
    pages = max(1, -(-total // f.per_page))
    page = min(f.page, pages)
    column, descending = SORTS[f.sort]
    if column is Ticket.priority:
        from sqlalchemy import case

        order = case(_PRIORITY_RANK, value=Ticket.priority, else_=len(_PRIORITY_RANK))
    else:
        order = column.desc() if descending else column.asc()
    statement = (
        _filtered(select(Ticket), f)
        .order_by(order, Ticket.id.desc())
        .offset((page - 1) * f.per_page)
        .limit(f.per_page)
    )
    tickets = list(session.execute(statement).scalars())
    return TicketPage(tickets=tickets, total=total, page=page, pages=pages)


def status_counts(session: Session, f: TicketFilter | None = None) -> dict[str, int]:
    """Tickets per status under the other filters (so the counts explain the queue)."""
    statement = select(Ticket.status, func.count(Ticket.id)).group_by(Ticket.status)
    if f is not None:
        statement = _filtered(statement, f, with_status=False)
    counts = dict.fromkeys(TICKET_STATUSES, 0)
    counts.update({status: n for status, n in session.execute(statement)})
    return counts


def filter_options(session: Session) -> dict[str, list[str]]:
    """The categories and municipalities that occur, for the filter menus."""

    def distinct(column):  # type: ignore[no-untyped-def]
        rows = session.execute(select(column).where(column.is_not(None)).distinct())
        return sorted(value for (value,) in rows if value)

    return {"category": distinct(Ticket.category), "municipality": distinct(Ticket.municipality)}


def get_ticket(session: Session, public_id: str) -> Ticket | None:
    return session.execute(
        select(Ticket).where(Ticket.public_id == public_id.strip().upper())
    ).scalar_one_or_none()


def history(session: Session, ticket: Ticket) -> tuple[list[TicketNote], list[TicketAudit]]:
    notes = list(
        session.execute(
            select(TicketNote)
            .where(TicketNote.ticket_id == ticket.id)
            .order_by(TicketNote.created_at, TicketNote.id)
        ).scalars()
    )
    audit = list(
        session.execute(
            select(TicketAudit)
            .where(TicketAudit.ticket_id == ticket.id)
            .order_by(TicketAudit.at, TicketAudit.id)
        ).scalars()
    )
    return notes, audit


def validate_changes(changes: Mapping[str, Any]) -> dict[str, str | None]:
    """Only status, priority and assignee may change, each to an allowed value."""
    clean: dict[str, str | None] = {}
    for field, value in changes.items():
        if field == "status":
            if value not in TICKET_STATUSES:
                raise TicketInputError(field, f"must be one of {', '.join(TICKET_STATUSES)}")
            clean[field] = value
        elif field == "priority":
            if value not in TICKET_PRIORITIES:
                raise TicketInputError(field, f"must be one of {', '.join(TICKET_PRIORITIES)}")
            clean[field] = value
        elif field == "assignee":
            if value is not None and not isinstance(value, str):
                raise TicketInputError(field, "must be a string or null")
            value = (value or "").strip() or None
            if value is not None and len(value) > MAX_ASSIGNEE_LENGTH:
                raise TicketInputError(field, f"at most {MAX_ASSIGNEE_LENGTH} characters")
            clean[field] = value
        else:
            raise TicketInputError(field, "cannot be changed")
    return clean


def update_ticket(
    session: Session, ticket: Ticket, actor: str, changes: Mapping[str, Any]
) -> Ticket:
    """Staff changes: validated here, stored (with one audit row per changed field)
    by the ticket repository. `changes` is a mapping, never keyword arguments: a
    client's key such as "actor" must be refused as a field, not clash with a parameter."""
    return repository.update_ticket(session, ticket, actor, **validate_changes(changes))


def add_note(session: Session, ticket: Ticket, author: str, text: str) -> TicketNote:
    """An internal note; the repository masks personal data and audits it."""
    if not text.strip():
        raise TicketInputError("note", "must not be empty")
    if len(text) > MAX_NOTE_LENGTH:
        raise TicketInputError("note", f"at most {MAX_NOTE_LENGTH} characters")
    return repository.add_note(session, ticket, author, text)


# --- transcript ----------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    sender: str  # "user" | "bot"
    text: str
    at: datetime | None
    buttons: list[dict[str, str]]
    clicked: str | None  # title of the button the user clicked, if this turn was a click


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


def transcript_turns(raw: str | None) -> list[Turn]:
    """The stored transcript as chat turns; malformed entries are skipped, not fatal."""
    try:
        entries = json.loads(raw or "[]")
    except ValueError:
        return []
    if not isinstance(entries, list):
        return []
    turns: list[Turn] = []
    offered: dict[str, str] = {}  # payload -> title of the buttons last shown
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
            clicked = offered.get(payload, payload)
        if buttons:
            offered = {b["payload"]: b["title"] for b in buttons}
        turns.append(
            Turn(
                sender=sender,
                text=str(entry.get("text") or ""),
                at=_timestamp(entry.get("timestamp")),
                buttons=buttons,
                clicked=clicked,
            )
        )
    return turns


def ticket_json(
    ticket: Ticket, notes: list[TicketNote] | None = None, audit: list[TicketAudit] | None = None
) -> dict[str, Any]:
    """The API representation (documented in bot/web/openapi.yaml)."""
    data: dict[str, Any] = {
        "id": ticket.public_id,
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at),
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee": ticket.assignee,
        "category": ticket.category,
        "municipality": ticket.municipality,
        "channel": ticket.channel,
        "summary": ticket.summary,
        "requester_name": ticket.requester_name,
    }
    if notes is not None:
        data["description"] = ticket.description
        data["contact"] = ticket.contact
        data["conversation_id"] = ticket.conversation_id
        data["transcript"] = [
            {
                "sender": t.sender,
                "text": t.text,
                "timestamp": _iso(t.at),
                "buttons": t.buttons,
                "clicked": t.clicked,
            }
            for t in transcript_turns(ticket.transcript)
        ]
        data["notes"] = [
            {"author": n.author, "created_at": _iso(n.created_at), "text": n.text} for n in notes
        ]
    if audit is not None:
        data["audit"] = [
            {
                "at": _iso(a.at),
                "actor": a.actor,
                "action": a.action,
                "field": a.field,
                "old_value": a.old_value,
                "new_value": a.new_value,
            }
            for a in audit
        ]
    return data


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite returns naive datetimes; we store UTC
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat()

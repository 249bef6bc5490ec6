"""What the staff queue, the ticket page and the JSON API read from the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from bot.models import TICKET_PRIORITIES, TICKET_STATUSES, Ticket, TicketAudit, TicketNote
from bot.web.ticket_filter import SORTS, TicketFilter

# Priority sorts by urgency, not alphabetically.
_PRIORITY_RANK = {p: i for i, p in enumerate(TICKET_PRIORITIES)}


@dataclass(frozen=True)
class TicketPage:
    tickets: list[Ticket]
    total: int
    page: int
    pages: int


def _filtered(statement: Any, f: TicketFilter, *, with_status: bool = True) -> Any:
    """`statement` narrowed by the filter (SQLAlchemy 1.4 statements are untyped)."""
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
    name, descending = SORTS[f.sort]
    column = getattr(Ticket, name)
    if name == "priority":
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

    def distinct(column: Any) -> list[str]:
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

"""The service-desk queue (/staff/) and the ticket page (/staff/tickets/{id})."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeAlias
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.orm import Session

from bot import notices
from bot.models import (
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    Notice,
    Ticket,
    TicketAudit,
    TicketNote,
)
from bot.tickets.repository import TicketError
from bot.tickets.transcript import read_transcript
from bot.web import content_views, ticket_changes, ticket_queries
from bot.web.keys import DATABASE
from bot.web.staff_base import STAFF, login_required, render_page
from bot.web.ticket_filter import SORTS, TicketFilter


@login_required
async def queue(request: web.Request) -> web.Response:
    f = TicketFilter.from_query(request.query)
    username = request[STAFF].username

    def load(
        session: Session,
    ) -> tuple[ticket_queries.TicketPage, dict[str, int], dict[str, list[str]], list[Notice]]:
        return (
            ticket_queries.list_tickets(session, f),
            ticket_queries.status_counts(session, f),
            ticket_queries.filter_options(session),
            notices.overdue_for(session, username),  # the owner's reminder
        )

    page, counts, options, overdue = await request.app[DATABASE].run_async(load)
    return await render_page(
        request,
        "queue.html",
        {
            "f": f,
            "page": page,
            "counts": counts,
            "options": options,
            "statuses": TICKET_STATUSES,
            "priorities": TICKET_PRIORITIES,
            "sorts": list(SORTS),
            "link": lambda **overrides: "?" + urlencode(f.query_args(**overrides)),
            "active": "queue",
            "overdue_notices": overdue,
        },
    )


# A ticket with its notes and audit rows, as the ticket page shows them.
LoadedTicket: TypeAlias = tuple[Ticket, list[TicketNote], list[TicketAudit]]


def _load_ticket(request: web.Request) -> Awaitable[LoadedTicket | None]:
    public_id = request.match_info["public_id"]

    def load(session: Session) -> LoadedTicket | None:
        ticket = ticket_queries.get_ticket(session, public_id)
        if ticket is None:
            return None
        notes, audit = ticket_queries.history(session, ticket)
        return ticket, notes, audit

    return request.app[DATABASE].run_async(load)


@login_required
async def ticket_page(request: web.Request) -> web.Response:
    loaded = await _load_ticket(request)
    if loaded is None:
        raise web.HTTPNotFound()
    return await _render_ticket(request, *loaded, error=None)


async def _render_ticket(
    request: web.Request,
    ticket: Ticket,
    notes: list[TicketNote],
    audit: list[TicketAudit],
    *,
    error: str | None,
    status: int = 200,
) -> web.Response:
    return await render_page(
        request,
        "ticket.html",
        {
            "ticket": ticket,
            "notice": await request.app[DATABASE].run_async(
                lambda s: notices.notice_of_ticket(s, ticket.id)
            ),
            "notes": notes,
            "audit": audit,
            "turns": read_transcript(ticket.transcript),
            "statuses": TICKET_STATUSES,
            "priorities": TICKET_PRIORITIES,
            "error": error,
            "active": "queue",
            # A decision form beside every user message (bot/web/content_views.py).
            **await content_views.ticket_decisions(request, ticket.id),
        },
        status=status,
    )


@login_required
async def ticket_update(request: web.Request) -> web.Response:
    """One form for status, priority, assignee and an optional internal note."""
    public_id = request.match_info["public_id"]
    form = await request.post()
    actor = request[STAFF].username
    changes = {name: str(form[name]) for name in ("status", "priority", "assignee") if name in form}
    note = str(form.get("note", "")).strip()
    message = str(form.get("message", ""))

    def work(session: Session) -> Ticket | None:
        ticket = ticket_queries.get_ticket(session, public_id)
        if ticket is None:
            return None
        ticket_changes.update_ticket(session, ticket, actor, changes, message=message)
        if note:
            ticket_changes.add_note(session, ticket, actor, note)
        return ticket

    try:
        ticket = await request.app[DATABASE].run_async(work)
    except TicketError as exc:
        loaded = await _load_ticket(request)
        if loaded is None:
            raise web.HTTPNotFound() from None
        return await _render_ticket(request, *loaded, error=exc.field, status=400)
    if ticket is None:
        raise web.HTTPNotFound()
    # Post/redirect/get: reloading the page never repeats the change.
    raise web.HTTPSeeOther(f"/staff/tickets/{ticket.public_id}#historikk")

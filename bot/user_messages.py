"""Messages Rakel owes a requester: their fault is fixed, their ticket waits or is solved.

Written into the `user_messages` outbox in the transaction of the change they tell
(callers pass the Session of that change; nothing here commits), so a resolved notice
or a changed ticket can never lose its message, nor a message exist without its change.
Teams requesters get it from the worker through their stored conversation reference
(bot/worker.py); intranet widget users see it the next time they open the widget
(bot/web/widget_messages.py). Anonymous requesters (a REST caller, a widget without a
token) cannot be found again, so nothing is stored for them.

The text holds the ticket's public id, the notice's title and the staff member's
message (masked like every staff text): nothing about the person that the ticket
does not already hold, and never their name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.identity import INTRANET, TEAMS, namespace_of
from bot.models import Notice, NoticeTicket, Ticket, UserMessage, utcnow
from bot.privacy import mask_text
from bot.tickets.outbox import USER_MESSAGES, Claim, claim_due, mark_delivered

TEAMS_VIA = "teams"
WIDGET_VIA = "widget"
NOTICE_RESOLVED = "notice_resolved"
TICKET_STATUS = "ticket_status"
# The ticket statuses a requester is told about, and what they are told.
STATUS_TEXTS = {
    "venter_paa_bruker": "Saken din {ticket} venter på svar fra deg.",
    "lost": "Saken din {ticket} er løst.",
}
# A chat bubble, like a notice's text (bot/notices.py MAX_TEXT_LENGTH).
MAX_STAFF_MESSAGE_LENGTH = 2000
# Only namespaces a channel verified can be reached again (bot/identity.py).
_VIA = {TEAMS: TEAMS_VIA, INTRANET: WIDGET_VIA}


def via_for(requester_id: str) -> str | None:
    """How a requester can be reached later, or None (an anonymous conversation)."""
    return _VIA.get(namespace_of(requester_id))


def _add(
    session: Session, ticket: Ticket, kind: str, text: str, notice_id: int | None = None
) -> UserMessage | None:
    via = via_for(ticket.requester_id)
    if via is None:
        return None
    now = utcnow()
    message = UserMessage(
        ticket_id=ticket.id,
        notice_id=notice_id,
        kind=kind,
        recipient_id=ticket.requester_id,
        via=via,
        created_at=now,
        next_attempt_at=now,
        attempts=0,
        idempotency_key=f"rakel-msg-{uuid.uuid4()}",
        payload=text,
    )
    session.add(message)
    return message


def notice_resolved_text(notice: Notice, ticket: Ticket) -> str:
    return (
        f"Feilen er rettet: «{notice.title}». Den gjaldt saken din {ticket.public_id}. "
        "Virker det fortsatt ikke for deg, kan du skrive til meg her."
    )


def notice_resolved(session: Session, notice: Notice) -> list[UserMessage]:
    """One message per requester with a ticket linked to the notice (the oldest ticket
    names it): someone who reported the outage twice is told once."""
    tickets = session.execute(
        select(Ticket)
        .join(NoticeTicket, NoticeTicket.ticket_id == Ticket.id)
        .where(NoticeTicket.notice_id == notice.id)
        .order_by(Ticket.id)
    ).scalars()
    told: set[str] = set()
    added = []
    for ticket in tickets:
        if ticket.requester_id in told:
            continue
        told.add(ticket.requester_id)
        message = _add(
            session, ticket, NOTICE_RESOLVED, notice_resolved_text(notice, ticket), notice.id
        )
        if message is not None:
            added.append(message)
    session.flush()
    return added


def ticket_status_text(ticket: Ticket, staff_message: str | None = None) -> str:
    text = STATUS_TEXTS[ticket.status].format(ticket=ticket.public_id)
    staff_message = mask_text(staff_message or "").strip()
    if staff_message:
        text += f"\n\nMelding fra brukerstøtten: {staff_message}"
    return text


def ticket_status(
    session: Session, ticket: Ticket, staff_message: str | None = None
) -> UserMessage | None:
    """The message for a ticket just set to a status in STATUS_TEXTS."""
    message = _add(session, ticket, TICKET_STATUS, ticket_status_text(ticket, staff_message))
    session.flush()
    return message


def claim_for_teams(
    session: Session, *, lease_seconds: float, limit: int = 1
) -> list[tuple[Claim, str]]:
    """Lease due Teams messages (the outbox's lease), each with its recipient."""
    claims = claim_due(
        session,
        lease_seconds=lease_seconds,
        limit=limit,
        outbox=USER_MESSAGES,
        where=(UserMessage.via == TEAMS_VIA,),
    )
    return [(claim, session.get(UserMessage, claim.id).recipient_id) for claim in claims]


@dataclass(frozen=True)
class Pending:
    id: int
    text: str
    created_at: datetime


def pending_for_widget(session: Session, recipient_id: str) -> list[Pending]:
    """What waits for this widget user, oldest first."""
    rows = session.execute(
        select(UserMessage)
        .where(
            UserMessage.recipient_id == recipient_id,
            UserMessage.via == WIDGET_VIA,
            UserMessage.delivered_at.is_(None),
        )
        .order_by(UserMessage.created_at, UserMessage.id)
    ).scalars()
    return [Pending(row.id, row.payload, row.created_at) for row in rows]


def mark_shown(session: Session, recipient_id: str, ids: Iterable[int]) -> int:
    """The widget showed these messages; only the recipient's own count. How many
    were recorded now (a repeated acknowledgement records nothing)."""
    recorded = 0
    for row in session.execute(
        select(UserMessage).where(
            UserMessage.id.in_(list(ids)),
            UserMessage.recipient_id == recipient_id,
            UserMessage.via == WIDGET_VIA,
        )
    ).scalars():
        if mark_delivered(session, Claim.of(row), outbox=USER_MESSAGES):
            recorded += 1
    session.flush()
    return recorded

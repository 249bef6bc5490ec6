"""What staff may change on a ticket, from the ticket page and the JSON API alike.

Staff change status, priority and assignee, and add internal notes. Setting a ticket
to "venter på bruker" or "løst" tells its requester (bot/user_messages.py), with the
staff member's message to them if there is one. Which values a
field may hold is the ticket repository's rule (bot/tickets/repository.py), which also
stores each change with its audit row and masks notes; this module adds only what is
particular to staff input. Refusals are a TicketError naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from bot import user_messages
from bot.models import Ticket, TicketNote
from bot.tickets import repository
from bot.tickets.repository import TicketError

# The fields a staff member may change (Rakel may change more, e.g. the category).
STAFF_FIELDS = ("status", "priority", "assignee")
MAX_NOTE_LENGTH = 5000
MAX_ASSIGNEE_LENGTH = 128


def _assignee(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TicketError("assignee", "must be a string or null")
    value = (value or "").strip() or None
    if value is not None and len(value) > MAX_ASSIGNEE_LENGTH:
        raise TicketError("assignee", f"at most {MAX_ASSIGNEE_LENGTH} characters")
    return value


def staff_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The changes, checked field by field in the order given (the first refusal raises)."""
    clean: dict[str, Any] = {}
    for field, value in changes.items():
        if field not in STAFF_FIELDS:
            raise TicketError(field, "cannot be changed")
        if field == "assignee":
            value = _assignee(value)
        repository.check_field(field, value)
        clean[field] = value
    return clean


def _staff_message(value: Any, status: Any, before: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TicketError("message", "must be a string or null")
    value = (value or "").strip() or None
    if value is None:
        return None
    if len(value) > user_messages.MAX_STAFF_MESSAGE_LENGTH:
        raise TicketError("message", f"at most {user_messages.MAX_STAFF_MESSAGE_LENGTH} characters")
    if status not in user_messages.STATUS_TEXTS or status == before:
        # Refused rather than dropped: the staff member believes the user reads it.
        raise TicketError(
            "message",
            "is sent to the requester with a status change to "
            + " or ".join(user_messages.STATUS_TEXTS),
        )
    return value


def update_ticket(
    session: Session,
    ticket: Ticket,
    actor: str,
    changes: Mapping[str, Any],
    *,
    message: Any = None,
    tell_requester: bool = True,
) -> Ticket:
    """Staff changes, stored with one audit row per changed field. `changes` is a
    mapping, never keyword arguments: a client's key such as "actor" must be refused
    as a field, not clash with a parameter.

    A new status in user_messages.STATUS_TEXTS queues the requester's message in this
    transaction; `message` is the staff member's words to them (masked there).
    `tell_requester=False` when they were told already (a resolved notice's tickets)."""
    clean = staff_changes(changes)
    before = ticket.status
    staff_message = _staff_message(message, clean.get("status"), before)
    repository.update_ticket(session, ticket, actor, **clean)
    if tell_requester and ticket.status != before and ticket.status in user_messages.STATUS_TEXTS:
        user_messages.ticket_status(session, ticket, staff_message)
    return ticket


def add_note(session: Session, ticket: Ticket, author: str, text: str) -> TicketNote:
    """An internal note (the repository refuses an empty one, masks and audits it)."""
    if len(text) > MAX_NOTE_LENGTH:
        raise TicketError("note", f"at most {MAX_NOTE_LENGTH} characters")
    return repository.add_note(session, ticket, author, text)

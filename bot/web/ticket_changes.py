"""What staff may change on a ticket, from the ticket page and the JSON API alike.

Staff change status, priority and assignee, and add internal notes. Which values a
field may hold is the ticket repository's rule (bot/tickets/repository.py), which also
stores each change with its audit row and masks notes; this module adds only what is
particular to staff input. Refusals are a TicketError naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

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


def update_ticket(
    session: Session, ticket: Ticket, actor: str, changes: Mapping[str, Any]
) -> Ticket:
    """Staff changes, stored with one audit row per changed field. `changes` is a
    mapping, never keyword arguments: a client's key such as "actor" must be refused
    as a field, not clash with a parameter."""
    return repository.update_ticket(session, ticket, actor, **staff_changes(changes))


def add_note(session: Session, ticket: Ticket, author: str, text: str) -> TicketNote:
    """An internal note (the repository refuses an empty one, masks and audits it)."""
    if len(text) > MAX_NOTE_LENGTH:
        raise TicketError("note", f"at most {MAX_NOTE_LENGTH} characters")
    return repository.add_note(session, ticket, author, text)

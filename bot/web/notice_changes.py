"""What staff may do with outage notices, from the pages and the JSON API alike.

Which values a notice may hold is the notice repository's rule (bot/notices.py).
This module adds who may do what: a notice that is active reaches every employee of
its municipalities, so only an admin may make a notice active or change one that is
(resolving included). Any staff member may prepare and edit planned notices.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from multidict import MultiMapping
from sqlalchemy.orm import Session

from bot import notices
from bot.models import Notice, Ticket
from bot.notices import ACTIVE, NoticeError
from bot.tickets.repository import CLOSED_STATUSES
from bot.web import ticket_changes
from bot.web.staff_base import StaffIdentity

# The pages' <input type="datetime-local"> is the staff member's wall clock.
LOCAL_ZONE = ZoneInfo("Europe/Oslo")
ALL_MUNICIPALITIES = "alle"


class NoticeForbidden(Exception):
    """The staff member may not make this change (not an admin)."""


def _check_may(staff: StaffIdentity, before: str | None, after: str | None) -> None:
    if ACTIVE in (before, after) and not staff.is_admin:
        raise NoticeForbidden("only an admin may publish or change an active notice")


def create(session: Session, staff: StaffIdentity, values: Mapping[str, Any]) -> Notice:
    _check_may(staff, None, values.get("status", "planlagt"))
    return notices.create_notice(session, staff.username, values)


def update(
    session: Session, staff: StaffIdentity, notice: Notice, changes: Mapping[str, Any]
) -> Notice:
    _check_may(staff, notice.status, changes.get("status", notice.status))
    return notices.update_notice(session, notice, staff.username, changes)


def resolve_linked_tickets(session: Session, staff: StaffIdentity, notice: Notice) -> int:
    """Set every open ticket linked to a resolved notice to "løst", audited per ticket
    as the staff member's change; returns how many changed. Only once the notice is
    resolved: while it is active, a linked ticket may still be a different fault."""
    if notice.status != notices.RESOLVED:
        raise NoticeError("status", "resolve the notice before its tickets")
    changed = 0
    for ticket_id in notices.linked_ticket_ids(session, notice):
        ticket = session.get(Ticket, ticket_id)
        if ticket is not None and ticket.status not in CLOSED_STATUSES:
            # Their requesters were told when the notice was resolved.
            ticket_changes.update_ticket(
                session, ticket, staff.username, {"status": "lost"}, tell_requester=False
            )
            changed += 1
    return changed


def _local_time(field: str, value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise NoticeError(field, "must be a date and time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL_ZONE)
    return parsed.isoformat()


def from_form(form: MultiMapping[Any]) -> dict[str, Any]:
    """The notice fields of a staff form; times are read as Norwegian local time."""
    values: dict[str, Any] = {
        name: str(form.get(name, "")) for name in ("title", "text", "service", "status")
    }
    values["system_name"] = str(form.get("system_name", "")) or None
    chosen = [str(v) for v in form.getall("municipalities", [])]
    values["municipalities"] = ALL_MUNICIPALITIES if ALL_MUNICIPALITIES in chosen else chosen
    values["starts_at"] = _local_time("starts_at", str(form.get("starts_at", "")))
    values["expected_end_at"] = _local_time("expected_end_at", str(form.get("expected_end_at", "")))
    return values


def local_input(value: datetime | None) -> str:
    """A stored UTC time as the pages' datetime-local input shows it."""
    if value is None:
        return ""
    return notices.as_utc(value).astimezone(LOCAL_ZONE).strftime("%Y-%m-%dT%H:%M")

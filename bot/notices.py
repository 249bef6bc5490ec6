"""Outage notices (driftsmeldinger): storage, with the rules of what a notice may hold.

Callers pass a Session from `Database.unit_of_work()`; nothing here commits, so a
notice and its audit rows are written together or not at all. Every value is
checked before the first is stored: a refused notice or change leaves nothing.
Which services and municipalities exist is the content catalogue's
(knowledge/catalogue.yml); who may publish is the staff pages' rule
(bot/web/notice_changes.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import user_messages
from bot.content.catalogue import Catalogue, catalogue
from bot.models import (
    NOTICE_STATUSES,
    Notice,
    NoticeAudit,
    NoticeShown,
    NoticeTicket,
    Ticket,
    utcnow,
)

MAX_TITLE_LENGTH = 200
# A notice is read in a chat bubble: a few sentences, not a report.
MAX_TEXT_LENGTH = 2000
MAX_SYSTEM_NAME_LENGTH = 128
ACTIVE = "aktiv"
RESOLVED = "lost"
FIELDS = (
    "title",
    "text",
    "service",
    "system_name",
    "municipalities",
    "starts_at",
    "expected_end_at",
    "status",
)
REQUIRED = ("title", "text", "service", "municipalities", "starts_at")
# Plain text only: what looks like an HTML tag, comment or doctype is refused rather
# than escaped, so every channel (Teams, the widget, REST) shows the same words.
_HTML = re.compile(r"<\s*[/!?]?\s*[a-zA-Z]")


class NoticeError(ValueError):
    """A notice field has a value that is not allowed; `field` names it.

    The staff pages and the JSON API show `field` and `message` as they are.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _plain_text(field: str, value: Any, limit: int, *, required: bool = True) -> str | None:
    if value is not None and not isinstance(value, str):
        raise NoticeError(field, "must be a string")
    value = (value or "").strip()
    if not value:
        if required:
            raise NoticeError(field, "must not be empty")
        return None
    if len(value) > limit:
        raise NoticeError(field, f"at most {limit} characters (got {len(value)})")
    if _HTML.search(value):
        raise NoticeError(field, "must be plain text, without HTML tags")
    return value


def _time(field: str, value: Any, *, required: bool) -> datetime | None:
    if value is None or value == "":
        if required:
            raise NoticeError(field, "is required")
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise NoticeError(field, "must be an ISO 8601 date and time") from None
    if not isinstance(value, datetime):
        raise NoticeError(field, "must be an ISO 8601 date and time")
    if value.tzinfo is None:
        raise NoticeError(field, "needs a time zone offset, e.g. 2026-12-01T14:00:00+01:00")
    # Whole minutes, as the staff form shows them: saving an unchanged form then
    # changes (and audits) nothing.
    return value.astimezone(timezone.utc).replace(second=0, microsecond=0)


def _municipalities(value: Any, content: Catalogue) -> list[str]:
    known = list(content.municipalities)
    if value == "alle" or value == ["alle"]:
        return known
    if not isinstance(value, list) or not value:
        raise NoticeError("municipalities", f"one or more of {', '.join(known)}, or 'alle'")
    unknown = [name for name in value if not isinstance(name, str) or name not in known]
    if unknown:
        raise NoticeError(
            "municipalities", f"unknown {unknown[0]!r}; one or more of {', '.join(known)}"
        )
    # The catalogue's order, once each: two forms naming the same set store the same.
    return [name for name in known if name in value]


def _clean(values: Mapping[str, Any], content: Catalogue) -> dict[str, Any]:
    """Every given field checked, in FIELDS order (the first refusal raises)."""
    unknown = [name for name in values if name not in FIELDS]
    if unknown:
        raise NoticeError(unknown[0], f"is not a notice field; fields: {', '.join(FIELDS)}")
    clean: dict[str, Any] = {}
    for name in FIELDS:
        if name not in values:
            continue
        value = values[name]
        if name == "title":
            clean[name] = _plain_text(name, value, MAX_TITLE_LENGTH)
        elif name == "text":
            clean[name] = _plain_text(name, value, MAX_TEXT_LENGTH)
        elif name == "system_name":
            clean[name] = _plain_text(name, value, MAX_SYSTEM_NAME_LENGTH, required=False)
        elif name == "service":
            if not isinstance(value, str) or value not in content.notice_services:
                raise NoticeError(name, f"must be one of {', '.join(content.notice_services)}")
            clean[name] = value
        elif name == "municipalities":
            clean[name] = _municipalities(value, content)
        elif name == "starts_at":
            clean[name] = _time(name, value, required=True)
        elif name == "expected_end_at":
            clean[name] = _time(name, value, required=False)
        elif name == "status":
            if not isinstance(value, str) or value not in NOTICE_STATUSES:
                raise NoticeError(name, f"must be one of {', '.join(NOTICE_STATUSES)}")
            clean[name] = value
    return clean


def _check_whole(notice: Mapping[str, Any], content: Catalogue) -> None:
    """The rules between fields, on the notice as it would be stored."""
    service = content.notice_services[notice["service"]]
    if service.named and not notice.get("system_name"):
        raise NoticeError("system_name", f"name the system for service {service.id!r}")
    end = notice.get("expected_end_at")
    if end is not None and as_utc(end) <= as_utc(notice["starts_at"]):
        raise NoticeError("expected_end_at", "must be after starts_at")


def create_notice(
    session: Session, actor: str, values: Mapping[str, Any], content: Catalogue | None = None
) -> Notice:
    """A new notice with its "created" audit row; status "planlagt" unless given."""
    content = content or catalogue()
    missing = [name for name in REQUIRED if name not in values]
    if missing:
        raise NoticeError(missing[0], "is required")
    clean = {"status": "planlagt", "system_name": None, "expected_end_at": None}
    clean.update(_clean(values, content))
    _check_whole(clean, content)
    now = utcnow()
    notice = Notice(
        created_at=now,
        updated_at=now,
        created_by=actor,
        resolved_at=now if clean["status"] == RESOLVED else None,
        **{**clean, "municipalities": json.dumps(clean["municipalities"], ensure_ascii=False)},
    )
    session.add(notice)
    session.flush()
    session.add(NoticeAudit(notice_id=notice.id, at=now, actor=actor, action="created"))
    session.flush()
    return notice


def update_notice(
    session: Session,
    notice: Notice,
    actor: str,
    changes: Mapping[str, Any],
    content: Catalogue | None = None,
) -> Notice:
    """Apply changes; one audit row per field whose value actually changed.

    `changes` is a mapping, never keyword arguments: a client's key such as "actor"
    must be refused as a field, not clash with a parameter.
    """
    content = content or catalogue()
    clean = _clean(changes, content)
    _check_whole({**current_values(notice), **clean}, content)
    now = utcnow()
    changed = False
    for name, value in clean.items():
        old = current_values(notice)[name]
        if _same(old, value):
            continue
        stored = json.dumps(value, ensure_ascii=False) if name == "municipalities" else value
        setattr(notice, name, stored)
        session.add(
            NoticeAudit(
                notice_id=notice.id,
                at=now,
                actor=actor,
                action="changed",
                field=name,
                old_value=_text(old),
                new_value=_text(value),
            )
        )
        changed = True
    if changed:
        notice.updated_at = now
        if "status" in clean:
            was_resolved = notice.resolved_at is not None
            notice.resolved_at = now if notice.status == RESOLVED else None
            if notice.status == RESOLVED and not was_resolved:
                # In this transaction: the notice is never resolved without telling
                # the requesters of its linked tickets, nor told without being resolved.
                session.flush()
                user_messages.notice_resolved(session, notice)
    session.flush()
    return notice


def current_values(notice: Notice) -> dict[str, Any]:
    return {
        name: municipalities_of(notice) if name == "municipalities" else getattr(notice, name)
        for name in FIELDS
    }


def municipalities_of(notice: Notice) -> list[str]:
    return list(json.loads(notice.municipalities))


def is_overdue(notice: Notice, now: datetime | None = None) -> bool:
    """Active past its expected end: flagged for staff, still shown to users."""
    end = notice.expected_end_at
    return notice.status == ACTIVE and end is not None and as_utc(end) < as_utc(now or utcnow())


# Database integer ids are 32-bit on PostgreSQL; a larger number is no notice.
MAX_ID = 2**31 - 1


def get_notice(session: Session, notice_id: int) -> Notice | None:
    if not 0 < notice_id <= MAX_ID:
        return None
    return session.get(Notice, notice_id)


def all_notices(session: Session) -> list[Notice]:
    """Active first, then planned, then resolved; newest start first within each."""
    order = {status: rank for rank, status in enumerate((ACTIVE, "planlagt", RESOLVED))}
    notices = list(session.execute(select(Notice)).scalars())
    return sorted(notices, key=lambda n: (order.get(n.status, 9), -as_utc(n.starts_at).timestamp()))


def overdue_for(session: Session, username: str, now: datetime | None = None) -> list[Notice]:
    """The active notices this staff member created whose expected end has passed:
    the reminder on their queue page, until they extend or resolve them."""
    rows = session.execute(
        select(Notice).where(Notice.status == ACTIVE, Notice.created_by == username)
    ).scalars()
    return [n for n in rows if is_overdue(n, now)]


def active_notices(
    session: Session, municipality: str | None = None, now: datetime | None = None
) -> list[Notice]:
    """The active notices that have started, for one municipality (None: every one)."""
    now = as_utc(now or utcnow())
    rows = session.execute(
        select(Notice).where(Notice.status == ACTIVE).order_by(Notice.starts_at.desc())
    ).scalars()
    return [
        n
        for n in rows
        if as_utc(n.starts_at) <= now
        and (municipality is None or municipality in municipalities_of(n))
    ]


def history(session: Session, notice: Notice) -> list[NoticeAudit]:
    return list(
        session.execute(
            select(NoticeAudit)
            .where(NoticeAudit.notice_id == notice.id)
            .order_by(NoticeAudit.at, NoticeAudit.id)
        ).scalars()
    )


def notice_of_ticket(session: Session, ticket_id: int) -> Notice | None:
    """The notice a ticket is linked to, if any."""
    return session.execute(
        select(Notice)
        .join(NoticeTicket, NoticeTicket.notice_id == Notice.id)
        .where(NoticeTicket.ticket_id == ticket_id)
    ).scalar_one_or_none()


def linked_ticket_ids(session: Session, notice: Notice) -> list[int]:
    return list(
        session.execute(
            select(NoticeTicket.ticket_id)
            .where(NoticeTicket.notice_id == notice.id)
            .order_by(NoticeTicket.ticket_id)
        ).scalars()
    )


def link_ticket(
    session: Session, ticket: Ticket, content: Catalogue | None = None
) -> Notice | None:
    """Link a new ticket to the active notice about its topic and municipality, if any.

    A ticket reported during an outage of what it is about is most likely that outage:
    staff see it on the notice's page. A ticket links to at most one notice (the
    newest); a ticket already linked (a resent confirmation) keeps its link.
    """
    content = content or catalogue()
    already = session.execute(
        select(NoticeTicket.id).where(NoticeTicket.ticket_id == ticket.id)
    ).first()
    if already is not None:
        return None
    for notice in active_notices(session, ticket.municipality):
        service = content.notice_services.get(notice.service)
        if service is not None and service.concerns(ticket.category):
            now = utcnow()
            session.add(NoticeTicket(notice_id=notice.id, ticket_id=ticket.id, linked_at=now))
            session.add(
                NoticeAudit(
                    notice_id=notice.id,
                    at=now,
                    actor="rakel",
                    action="linked",
                    field="ticket",
                    new_value=ticket.public_id,
                )
            )
            session.flush()
            return notice
    return None


# "No ticket within 24 hours": a conversation counts once this much time has passed.
TICKET_WINDOW = timedelta(hours=24)


def conversation_digest(conversation_id: str) -> str:
    return hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()


def record_shown(
    session: Session,
    notice_ids: Iterable[int],
    conversation_id: str,
    message_id: str | None,
    at: datetime | None = None,
) -> None:
    """Rakel told these notices in this conversation; a retried call adds nothing."""
    at = at or utcnow()
    digest = conversation_digest(conversation_id)
    for notice_id in notice_ids:
        if (
            message_id is not None
            and session.execute(
                select(NoticeShown.id).where(
                    NoticeShown.notice_id == notice_id, NoticeShown.message_id == message_id
                )
            ).first()
        ):
            continue
        session.add(
            NoticeShown(
                notice_id=notice_id, conversation_sha256=digest, shown_at=at, message_id=message_id
            )
        )
    session.flush()


@dataclass(frozen=True)
class NoticeFigures:
    notice: Notice
    conversations: int  # conversations it was shown in
    settled: int  # of those, shown at least TICKET_WINDOW ago
    without_ticket: int  # of the settled, no ticket from that conversation within the window
    tickets: int  # tickets linked to it


def figures(session: Session, now: datetime | None = None) -> list[NoticeFigures]:
    """Per notice (as all_notices orders them): the statistics page's measures."""
    now = as_utc(now or utcnow())
    first_shown: dict[int, dict[str, datetime]] = {}
    for notice_id, digest, at in session.execute(
        select(NoticeShown.notice_id, NoticeShown.conversation_sha256, NoticeShown.shown_at)
    ):
        seen = first_shown.setdefault(notice_id, {})
        at = as_utc(at)
        if digest not in seen or at < seen[digest]:
            seen[digest] = at
    earliest = min((at for seen in first_shown.values() for at in seen.values()), default=now)
    ticket_times: dict[str, list[datetime]] = {}
    for conversation_id, created in session.execute(
        select(Ticket.conversation_id, Ticket.created_at).where(Ticket.created_at >= earliest)
    ):
        ticket_times.setdefault(conversation_digest(conversation_id), []).append(as_utc(created))
    linked: dict[int, int] = {}
    for (notice_id,) in session.execute(select(NoticeTicket.notice_id)):
        linked[notice_id] = linked.get(notice_id, 0) + 1
    result = []
    for notice in all_notices(session):
        seen = first_shown.get(notice.id, {})
        settled = {d: at for d, at in seen.items() if at + TICKET_WINDOW <= now}
        without = sum(
            1
            for digest, at in settled.items()
            if not any(at <= t <= at + TICKET_WINDOW for t in ticket_times.get(digest, []))
        )
        result.append(
            NoticeFigures(notice, len(seen), len(settled), without, linked.get(notice.id, 0))
        )
    return result


def as_utc(value: datetime) -> datetime:
    # SQLite returns naive datetimes; we store UTC.
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, datetime) and isinstance(new, datetime):
        return as_utc(old) == as_utc(new)
    return bool(old == new)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)

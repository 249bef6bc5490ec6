"""Requests from the person concerned (GDPR art. 15 access, art. 17 erasure).

Everything Rakel stores about one requester, found from the identity as stored on
their tickets (`teams:<aad id>`, `intranet:<user id>`, `anon:<channel>:<sender>`, or
the raw id older rows hold):

- tickets whose requester is that identity, with their notes, audit and outbox rows
  (the transcript and description live on the ticket row itself);
- their conversations: Rasa tracker events of every conversation id that belongs to
  them (the identity itself for anonymous users, the conversation of each ticket, the
  Bot Framework user id of their Teams reference, any conversation whose messages
  carry their verified identity);
- feedback and missed-message rows of those conversations;
- their Teams conversation references.

`export` returns it as JSON; `delete` removes it and writes one PersonDataAudit row
(who, when, why, how many rows) that itself holds no personal data: the identity is
kept only as a SHA-256 digest, so a repeated request can be matched to the earlier one.
Used by `python -m bot.cli person` and the staff admin page (bot/web/person_views.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, inspect, or_, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db import Database, make_engine
from bot.models import (
    Feedback,
    NluMiss,
    OutboxMessage,
    PersonDataAudit,
    TeamsConversationReference,
    Ticket,
    TicketAudit,
    TicketNote,
    UserMessage,
    utcnow,
)
from bot.tickets.repository import CLOSED_STATUSES

# Rasa's SQLTrackerStore table (one row per event; `data` is the event as JSON).
TRACKER_EVENTS_TABLE = "events"
IDENTITY_KEY = "rakel_identity"

# Where an identity was verified: "teams:<id>", "intranet:<id>", "anon:<channel>:<sender>".
_NAMESPACED = re.compile(r"^(teams|intranet|anon:[^:]+):(.+)$", re.DOTALL)


class PersonRequestError(ValueError):
    """The request cannot be carried out as asked (the message says why, in English)."""


class OpenTicketsError(PersonRequestError):
    """Deleting would remove cases the service desk is still working on."""

    def __init__(self, public_ids: list[str]) -> None:
        super().__init__(
            f"{len(public_ids)} open ticket(s) ({', '.join(public_ids)}): "
            "pass --force and --reason to delete them too"
        )
        self.public_ids = public_ids


def parse_identity(value: str) -> tuple[str | None, str]:
    """(namespace or None, raw id): "teams:abc" -> ("teams", "abc"), "abc" -> (None, "abc")."""
    match = _NAMESPACED.match(value)
    return (match.group(1), match.group(2)) if match else (None, value)


def same_person(stored: str, identity: str) -> bool:
    """True if `stored` names the requester `identity`.

    Rows written before ids were namespaced hold the raw id, so a raw id matches its
    namespaced forms and back; two different namespaces never match each other.
    """
    stored_ns, stored_raw = parse_identity(stored)
    ns, raw = parse_identity(identity)
    return stored_raw == raw and (stored_ns is None or ns is None or stored_ns == ns)


def _like_suffix(raw: str) -> str:
    escaped = raw.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%:{escaped}"


def _matching(column: Any, identities: set[str]) -> Any:
    """SQL pre-filter for same_person (exact raw id or any namespace around it);
    callers re-check each row with same_person."""
    clauses = []
    for identity in identities:
        _, raw = parse_identity(identity)
        clauses += [column == raw, column.like(_like_suffix(raw), escape="\\")]
    return or_(*clauses)


def identity_digest(identity: str) -> str:
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


@dataclass
class PersonData:
    """What one requester has stored, by table."""

    identity: str
    tickets: list[Ticket] = field(default_factory=list)
    notes: list[TicketNote] = field(default_factory=list)
    ticket_audit: list[TicketAudit] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)
    messages: list[UserMessage] = field(default_factory=list)  # what Rakel told them
    feedback: list[Feedback] = field(default_factory=list)
    misses: list[NluMiss] = field(default_factory=list)
    teams_references: list[TeamsConversationReference] = field(default_factory=list)
    conversation_ids: set[str] = field(default_factory=set)
    events: list[dict[str, Any]] = field(default_factory=list)  # {"sender_id", "event"}

    @property
    def open_tickets(self) -> list[str]:
        return [t.public_id for t in self.tickets if t.status not in CLOSED_STATUSES]

    def counts(self) -> dict[str, int]:
        return {
            "tickets": len(self.tickets),
            "ticket_notes": len(self.notes),
            "ticket_audit": len(self.ticket_audit),
            "outbox": len(self.outbox),
            "user_messages": len(self.messages),
            "feedback": len(self.feedback),
            "nlu_misses": len(self.misses),
            "teams_conversation_references": len(self.teams_references),
            "conversations": len({e["sender_id"] for e in self.events}),
            "tracker_events": len(self.events),
        }

    @property
    def empty(self) -> bool:
        return not any(v for k, v in self.counts().items())


def _row(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column in inspect(obj).mapper.column_attrs:
        if column.key in skip:
            continue
        value = getattr(obj, column.key)
        values[column.key] = value.isoformat() if hasattr(value, "isoformat") else value
    return values


def as_json(found: PersonData) -> dict[str, Any]:
    """Art. 15 copy: every stored row about the person, readable without Rakel."""
    notes: dict[int, list[dict[str, Any]]] = {}
    for note in found.notes:
        notes.setdefault(note.ticket_id, []).append(_row(note, ("ticket_id",)))
    audit: dict[int, list[dict[str, Any]]] = {}
    for entry in found.ticket_audit:
        audit.setdefault(entry.ticket_id, []).append(_row(entry, ("ticket_id",)))
    messages: dict[int, list[dict[str, Any]]] = {}
    for message in found.messages:
        messages.setdefault(message.ticket_id, []).append(_row(message, ("ticket_id",)))
    tickets = []
    for ticket in found.tickets:
        row = _row(ticket, ("transcript",))
        row["transcript"] = json.loads(ticket.transcript or "[]")
        row["notes"] = notes.get(ticket.id, [])
        row["audit"] = audit.get(ticket.id, [])
        row["messages"] = messages.get(ticket.id, [])
        tickets.append(row)
    conversations: dict[str, list[dict[str, Any]]] = {}
    for event in found.events:
        conversations.setdefault(event["sender_id"], []).append(event["event"])
    return {
        "identity": found.identity,
        "exported_at": utcnow().isoformat(),
        "tickets": tickets,
        "feedback": [_row(f) for f in found.feedback],
        "nlu_misses": [_row(m) for m in found.misses],
        "teams_conversation_references": [_row(r) for r in found.teams_references],
        "conversations": [
            {"conversation_id": sender, "events": events}
            for sender, events in sorted(conversations.items())
        ],
    }


def _tracker_engine(tracker_db_url: str) -> Engine | None:
    engine = make_engine(tracker_db_url)
    if not inspect(engine).has_table(TRACKER_EVENTS_TABLE):
        engine.dispose()
        return None  # Rasa has stored nothing yet
    return engine


def _verified_identity(data: str | None) -> str | None:
    try:
        event = json.loads(data or "{}")
    except ValueError:
        return None
    value = (event.get("metadata") or {}).get(IDENTITY_KEY)
    if not (isinstance(value, dict) and value.get("id")):
        return None
    verified, source = str(value["id"]), value.get("source")
    if parse_identity(verified)[0] is None and source in ("teams", "intranet"):
        return f"{source}:{verified}"
    return verified


def _conversations_with_identity(engine: Engine, identity: str) -> set[str]:
    """Senders of conversations whose user messages carry this verified identity."""
    _, raw = parse_identity(identity)
    escaped = raw.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                f"SELECT DISTINCT sender_id, data FROM {TRACKER_EVENTS_TABLE} "  # noqa: S608 - constant table name
                "WHERE type_name = 'user' AND data LIKE :pattern ESCAPE '\\'"
            ),
            {"pattern": f"%{escaped}%"},
        )
        return {
            sender
            for sender, data in rows
            if (verified := _verified_identity(data)) and same_person(verified, identity)
        }


def _events(engine: Engine, senders: set[str]) -> list[dict[str, Any]]:
    if not senders:
        return []
    names = {f"s{i}": sender for i, sender in enumerate(sorted(senders))}
    placeholders = ", ".join(f":{name}" for name in names)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                f"SELECT sender_id, data FROM {TRACKER_EVENTS_TABLE} "  # noqa: S608 - constant table name, bound values
                f"WHERE sender_id IN ({placeholders}) ORDER BY id"
            ),
            names,
        )
        return [{"sender_id": sender, "event": json.loads(data)} for sender, data in rows]


def _find_rows(session: Session, found: PersonData) -> None:
    identity = found.identity
    found.tickets = [
        t
        for t in session.scalars(
            select(Ticket).where(_matching(Ticket.requester_id, {identity})).order_by(Ticket.id)
        )
        if same_person(t.requester_id, identity)
    ]
    found.teams_references = [
        r
        for r in session.scalars(
            select(TeamsConversationReference).where(
                or_(
                    _matching(TeamsConversationReference.aad_object_id, {identity}),
                    _matching(TeamsConversationReference.user_id, {identity}),
                )
            )
        )
        if same_person(r.aad_object_id or "", identity) or same_person(r.user_id, identity)
    ]
    ticket_ids = [t.id for t in found.tickets]
    if ticket_ids:
        found.notes = list(
            session.scalars(select(TicketNote).where(TicketNote.ticket_id.in_(ticket_ids)))
        )
        found.ticket_audit = list(
            session.scalars(select(TicketAudit).where(TicketAudit.ticket_id.in_(ticket_ids)))
        )
        found.outbox = list(
            session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id.in_(ticket_ids)))
        )
        found.messages = list(
            session.scalars(select(UserMessage).where(UserMessage.ticket_id.in_(ticket_ids)))
        )


def _find_conversation_rows(session: Session, found: PersonData) -> None:
    ids = found.conversation_ids
    if not ids:
        return
    found.feedback = list(
        session.scalars(select(Feedback).where(Feedback.conversation_id.in_(ids)))
    )
    found.misses = list(session.scalars(select(NluMiss).where(NluMiss.conversation_id.in_(ids))))


def find(database: Database, tracker_db_url: str, identity: str) -> PersonData:
    """Everything stored about `identity` (rows are detached: read them, do not write)."""
    identity = identity.strip()
    if not identity:
        raise PersonRequestError("the identity is empty")
    found = PersonData(identity=identity)
    database.run(lambda s: _find_rows(s, found))
    # Conversation ids are matched exactly (a client chooses its REST sender id, so a
    # loose match could take in a stranger's conversation):
    namespace, raw = parse_identity(identity)
    if namespace is None or namespace.startswith("anon:"):
        # an anonymous requester's id is their conversation id, raw or namespaced
        found.conversation_ids = {identity, raw}
    found.conversation_ids |= {t.conversation_id for t in found.tickets}
    # Teams conversations are keyed by the Bot Framework user id, raw or namespaced.
    found.conversation_ids |= {
        form for r in found.teams_references for form in (r.user_id, f"teams:{r.user_id}")
    }
    engine = _tracker_engine(tracker_db_url)
    if engine is not None:
        try:
            found.conversation_ids |= _conversations_with_identity(engine, identity)
            found.events = _events(engine, found.conversation_ids)
        finally:
            engine.dispose()
    database.run(lambda s: _find_conversation_rows(s, found))
    return found


@dataclass(frozen=True)
class Deletion:
    counts: dict[str, int]
    audit_id: int


def delete_person(
    database: Database,
    tracker_db_url: str,
    identity: str,
    *,
    actor: str,
    reason: str | None = None,
    force: bool = False,
) -> Deletion:
    """Art. 17 erasure of everything `find` returns, plus one audit row.

    Open tickets are cases still being worked on: they are deleted only with `force`
    and a reason (e.g. "the user withdrew the case").
    """
    reason = (reason or "").strip() or None
    found = find(database, tracker_db_url, identity)
    if found.open_tickets and not (force and reason):
        raise OpenTicketsError(found.open_tickets)
    counts = found.counts()
    ticket_ids = [t.id for t in found.tickets]
    conversations = sorted({e["sender_id"] for e in found.events})

    # The tracker store (maybe another database) first: should Rakel's transaction
    # then fail, running the request again still finds the tickets that lead to those
    # conversations. The audit row is written with Rakel's deletions, atomically.
    engine = _tracker_engine(tracker_db_url) if conversations else None
    if engine is not None:
        names = {f"s{i}": sender for i, sender in enumerate(conversations)}
        placeholders = ", ".join(f":{name}" for name in names)
        try:
            with engine.begin() as connection:
                connection.execute(
                    text(
                        f"DELETE FROM {TRACKER_EVENTS_TABLE} "  # noqa: S608 - constant table name, bound values
                        f"WHERE sender_id IN ({placeholders})"
                    ),
                    names,
                )
        finally:
            engine.dispose()

    def work(session: Session) -> int:
        if ticket_ids:  # notes, audit, outbox and message rows go with them (ON DELETE CASCADE)
            session.execute(delete(Ticket).where(Ticket.id.in_(ticket_ids)))
        for model, rows in (
            (Feedback, found.feedback),
            (NluMiss, found.misses),
            (TeamsConversationReference, found.teams_references),
        ):
            if rows:
                session.execute(delete(model).where(model.id.in_([r.id for r in rows])))
        audit = PersonDataAudit(
            at=utcnow(),
            actor=actor,
            action="deleted",
            identity_sha256=identity_digest(found.identity),
            reason=reason,
            tickets=", ".join(t.public_id for t in found.tickets) or None,
            counts=json.dumps(counts, sort_keys=True),
        )
        session.add(audit)
        session.flush()
        return audit.id

    return Deletion(counts=counts, audit_id=database.run(work))


def record_export(database: Database, identity: str, *, actor: str, counts: dict[str, int]) -> None:
    """Art. 15 copies are logged too: who took personal data out, and when."""

    def work(session: Session) -> None:
        session.add(
            PersonDataAudit(
                at=utcnow(),
                actor=actor,
                action="exported",
                identity_sha256=identity_digest(identity),
                counts=json.dumps(counts, sort_keys=True),
            )
        )

    database.run(work)

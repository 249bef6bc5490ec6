"""The ticket repository on SQLite and PostgreSQL: ids, audit, outbox, masking."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.models import OutboxMessage, Ticket, TicketAudit, TicketNote, utcnow
from bot.tickets.repository import (
    TicketError,
    add_note,
    create_ticket,
    find_for_requester,
    parse_public_id,
    update_ticket,
)

VALID_FNR = "15076500565"  # synthetic, valid mod-11 check digits
FIELDS = dict(
    channel="rest",
    conversation_id="conv-1",
    requester_id="kari",
    category="two_factor",
    municipality="Molde",
    priority="hoy",
    description="Mistet mobilen med Authenticator",
)


def make(db, **overrides):
    return db.run(lambda s: create_ticket(s, **{**FIELDS, **overrides}))


def test_public_ids_follow_the_database_ids(db):
    first, second = make(db), make(db)
    assert (first.public_id, second.public_id) == ("RAK-1001", "RAK-1002")
    audit = db.run(
        lambda s: s.execute(
            select(TicketAudit.action, TicketAudit.actor).where(TicketAudit.ticket_id == first.id)
        ).all()
    )
    assert audit == [("created", "rakel")]
    assert db.run(lambda s: s.query(OutboxMessage).count()) == 0


def test_a_repeated_request_reuses_the_conversations_recent_ticket(db):
    window = timedelta(minutes=30)
    first = make(db, reuse_within=window, outbox=True)
    again = make(db, reuse_within=window, outbox=True)
    assert again.public_id == first.public_id
    # Masking happens before the comparison: the stored text is the masked one.
    with_fnr = make(db, reuse_within=window, description=f"Fnr {VALID_FNR} ble avvist")
    assert (
        make(db, reuse_within=window, description=f"Fnr {VALID_FNR} ble avvist").public_id
        == with_fnr.public_id
    )
    other_text = make(db, reuse_within=window, description="Skjermen er helt svart")
    other_conversation = make(db, reuse_within=window, conversation_id="conv-2")
    assert (
        len(
            {
                first.public_id,
                with_fnr.public_id,
                other_text.public_id,
                other_conversation.public_id,
            }
        )
        == 4
    )

    def age(session):
        session.get(Ticket, first.id).created_at = utcnow() - timedelta(minutes=31)

    db.run(age)
    later = make(db, reuse_within=window, outbox=True)
    assert later.public_id != first.public_id
    assert db.run(lambda s: s.query(Ticket).count()) == 5
    # One ITSM delivery per ticket, none for the repeat.
    assert db.run(lambda s: s.query(OutboxMessage).count()) == 2


def test_outbox_row_is_written_with_the_ticket(db):
    ticket = make(
        db,
        outbox=True,
        transcript=[
            {"sender": "user", "text": "hjelp", "timestamp": None, "buttons": None, "payload": None}
        ],
    )
    message = db.run(lambda s: s.query(OutboxMessage).one())
    payload = json.loads(message.payload)
    assert message.ticket_id == ticket.id and message.delivered_at is None
    assert payload["id"] == "RAK-1001" and payload["priority"] == "hoy"
    assert payload["transcript"][0]["text"] == "hjelp"


def test_personal_data_is_masked_before_storage(db):
    ticket = make(
        db,
        description=f"Fnr {VALID_FNR}, passord: Hemmelig123, tlf 912 34 567",
        transcript=[{"sender": "user", "text": f"mitt fnr er {VALID_FNR}"}],
    )
    stored = db.run(lambda s: s.get(Ticket, ticket.id))
    for text in (stored.description, stored.summary, stored.transcript):
        assert VALID_FNR not in text and "Hemmelig123" not in text and "912 34 567" not in text
    assert "[fødselsnummer fjernet]" in stored.description
    assert "[passord fjernet]" in stored.description
    assert "[telefonnummer fjernet]" in stored.description


@pytest.mark.parametrize(
    "bad", [{"priority": "urgent"}, {"municipality": "Oslo"}, {"description": "   "}]
)
def test_invalid_fields_store_nothing(db, bad):
    with pytest.raises(TicketError):
        make(db, **bad)
    assert db.run(lambda s: s.query(Ticket).count()) == 0
    assert db.run(lambda s: s.query(TicketAudit).count()) == 0


def test_updates_and_notes_leave_an_audit_trail(db):
    ticket = make(db)

    def work(session):
        row = session.get(Ticket, ticket.id)
        update_ticket(session, row, "ola", status="under_arbeid", priority="hoy", assignee="ola")
        add_note(session, row, "ola", "Ringte brukeren på 91234567")
        return row

    db.run(work)
    row = db.run(lambda s: s.get(Ticket, ticket.id))
    assert (row.status, row.assignee) == ("under_arbeid", "ola")
    assert row.updated_at > row.created_at
    changes = db.run(
        lambda s: s.execute(
            select(
                TicketAudit.action, TicketAudit.field, TicketAudit.old_value, TicketAudit.new_value
            ).order_by(TicketAudit.id)
        ).all()
    )
    # priority was already "hoy": no audit row for a non-change.
    assert changes == [
        ("created", None, None, None),
        ("changed", "status", "ny", "under_arbeid"),
        ("changed", "assignee", None, "ola"),
        ("note", None, None, None),
    ]
    assert db.run(lambda s: s.query(TicketNote.text).scalar()) == (
        "Ringte brukeren på [telefonnummer fjernet]"
    )
    with pytest.raises(TicketError):
        db.run(lambda s: update_ticket(s, s.get(Ticket, ticket.id), "ola", status="borte"))


def test_status_lookup_only_finds_the_requesters_own_tickets(db):
    ticket = make(db)
    assert db.run(lambda s: find_for_requester(s, "RAK-1001", "kari")).id == ticket.id
    assert db.run(lambda s: find_for_requester(s, "rak 1001", "kari")).id == ticket.id
    assert db.run(lambda s: find_for_requester(s, "RAK-1001", "per")) is None
    assert db.run(lambda s: find_for_requester(s, "RAK-1999", "kari")) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hva er status på RAK-1042?", 42),
        ("rak-1001", 1),
        ("sak 1005", 5),
        ("RAK-1000", None),
        ("hva er status", None),
        ("RAK-12", None),
    ],
)
def test_public_id_parsing(text, expected):
    assert parse_public_id(text) == expected


def test_fifty_tickets_created_at_once(db):
    """50 concurrent hand-offs: 50 rows, 50 unique ids, no lock errors."""
    errors: list[BaseException] = []
    start = threading.Barrier(50)

    def worker(n: int) -> None:
        try:
            start.wait()
            make(db, conversation_id=f"conv-{n}", requester_id=f"user-{n}", outbox=True)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    ids = db.run(lambda s: s.execute(select(Ticket.public_id)).scalars().all())
    assert len(ids) == 50 and len(set(ids)) == 50
    assert sorted(ids) == sorted(f"RAK-{1001 + n}" for n in range(50))
    assert db.run(lambda s: s.query(OutboxMessage).count()) == 50


def test_a_refused_change_leaves_the_ticket_as_it_was(db):
    # Every value is checked before any is applied: the caller's ticket object keeps
    # its state, not only the database (the staff page re-renders from it).
    ticket = make(db)

    def work(session):
        row = session.get(Ticket, ticket.id)
        with pytest.raises(TicketError) as refused:
            update_ticket(session, row, "ola", status="lukket", priority="akutt")
        return row.status, refused.value.field

    assert db.run(work) == ("ny", "priority")

"""Messages Rakel owes requesters: written with the change they tell, masked, once each."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from bot import notices, person_data, user_messages, worker
from bot.channels.teams_references import save_reference
from bot.models import NoticeShown, TeamsConversationReference, Ticket, TicketAudit, UserMessage
from bot.retention import run_retention
from bot.settings import SettingsError, load_teams_settings
from bot.tickets.repository import TicketError, create_ticket
from bot.web import notice_changes, ticket_changes
from bot.web.staff_base import StaffIdentity
from tests.notices.conftest import notice_values
from tests.support.fake_microsoft import FakeMicrosoft
from tests.support.staff import staff_settings

ADMIN = StaffIdentity(id=1, username="admin", is_admin=True)


def ticket(session, requester: str, conversation: str | None = None) -> Ticket:
    return create_ticket(
        session,
        channel=requester.split(":", 1)[0],
        conversation_id=conversation or requester,
        requester_id=requester,
        requester_name="Kari Nordmann",
        municipality="Molde",
        category="teams",
        description="Teams virker ikke",
    )


def outage_with_tickets(database, requesters: list[str]) -> tuple[int, list[str]]:
    """An active Teams notice for Molde and one linked ticket per requester."""

    def work(session):
        notice = notices.create_notice(session, "admin", notice_values())
        ids = []
        for n, requester in enumerate(requesters):
            created = ticket(session, requester, conversation=f"{requester}-{n}")
            assert notices.link_ticket(session, created) is not None
            ids.append(created.public_id)
        return notice.id, ids

    return database.run(work)


def resolve(database, notice_id: int) -> None:
    database.run(
        lambda s: notice_changes.update(
            s, ADMIN, notices.get_notice(s, notice_id), {"status": notices.RESOLVED}
        )
    )


def messages(database) -> list[UserMessage]:
    return database.run(
        lambda s: list(s.execute(select(UserMessage).order_by(UserMessage.id)).scalars())
    )


def test_resolving_a_notice_queues_one_message_per_reachable_requester(database):
    notice_id, tickets = outage_with_tickets(
        database,
        [
            "teams:aad-kari",
            "teams:aad-ola",
            "teams:aad-kari",  # Kari reported it twice: told once
            "intranet:molde\\per",
            "anon:rest:abc",  # nobody to find again: nothing stored
        ],
    )
    assert messages(database) == []
    resolve(database, notice_id)
    found = messages(database)
    assert [(m.recipient_id, m.via, m.kind) for m in found] == [
        ("teams:aad-kari", "teams", "notice_resolved"),
        ("teams:aad-ola", "teams", "notice_resolved"),
        ("intranet:molde\\per", "widget", "notice_resolved"),
    ]
    assert found[0].payload.startswith("Feilen er rettet: «Teams er nede».")
    assert tickets[0] in found[0].payload and tickets[1] in found[1].payload
    assert all(m.notice_id == notice_id and m.delivered_at is None for m in found)
    # Saving the resolved notice again tells nobody twice.
    resolve(database, notice_id)
    assert len(messages(database)) == 3


def test_the_messages_are_written_in_the_notices_transaction(database):
    notice_id, _ = outage_with_tickets(database, ["teams:aad-kari"])

    def fails_after_resolving(session):
        notice_changes.update(
            session, ADMIN, notices.get_notice(session, notice_id), {"status": notices.RESOLVED}
        )
        raise RuntimeError("the database connection broke before the commit")

    with pytest.raises(RuntimeError):
        database.run(fails_after_resolving)
    assert messages(database) == []
    assert database.run(lambda s: notices.get_notice(s, notice_id).status) == notices.ACTIVE


def test_closing_the_linked_tickets_of_a_resolved_notice_tells_nobody_again(database):
    notice_id, tickets = outage_with_tickets(database, ["teams:aad-kari", "teams:aad-ola"])
    resolve(database, notice_id)
    changed = database.run(
        lambda s: notice_changes.resolve_linked_tickets(s, ADMIN, notices.get_notice(s, notice_id))
    )
    assert changed == 2
    assert [m.kind for m in messages(database)] == ["notice_resolved", "notice_resolved"]


def set_status(database, public_id: str, status: str, message=None) -> None:
    def work(session):
        row = session.execute(select(Ticket).where(Ticket.public_id == public_id)).scalar_one()
        ticket_changes.update_ticket(session, row, "anne", {"status": status}, message=message)

    database.run(work)


def test_a_ticket_waiting_or_solved_tells_its_requester_with_the_staff_message(database):
    public_id = database.run(lambda s: ticket(s, "teams:aad-kari").public_id)
    set_status(database, public_id, "under_arbeid")
    assert messages(database) == [], "only 'venter på bruker' and 'løst' are told"
    set_status(database, public_id, "venter_paa_bruker", "Kan du sende et skjermbilde?")
    set_status(database, public_id, "lost")
    found = messages(database)
    assert [(m.kind, m.payload) for m in found] == [
        (
            "ticket_status",
            f"Saken din {public_id} venter på svar fra deg.\n\n"
            "Melding fra brukerstøtten: Kan du sende et skjermbilde?",
        ),
        ("ticket_status", f"Saken din {public_id} er løst."),
    ]
    # Saving the same status again tells nothing new.
    set_status(database, public_id, "lost")
    assert len(messages(database)) == 2


def test_the_stored_message_holds_no_personal_data_the_ticket_does_not(database):
    public_id = database.run(lambda s: ticket(s, "teams:aad-kari").public_id)
    set_status(
        database,
        public_id,
        "venter_paa_bruker",
        "Ring meg på 912 34 567 med fødselsnummer 01017012345, nytt passord: Sommer2026!",
    )
    (found,) = messages(database)
    # Masked as staff notes are (e-mail addresses are kept: docs/security.md).
    assert "[telefonnummer fjernet]" in found.payload
    for personal in ("912 34 567", "01017012345", "Sommer2026!", "Kari Nordmann"):
        assert personal not in found.payload
    assert public_id in found.payload


@pytest.mark.parametrize(
    "status,message,words",
    [
        ("under_arbeid", "Vi ser på det", "with a status change to venter_paa_bruker or lost"),
        ("ny", "Vi ser på det", "with a status change"),  # ny is what it already is
        ("lost", "x" * 2001, "at most 2000 characters"),
        ("lost", 42, "must be a string"),
    ],
)
def test_a_staff_message_that_would_not_reach_the_user_is_refused(database, status, message, words):
    public_id = database.run(lambda s: ticket(s, "teams:aad-kari").public_id)
    with pytest.raises(TicketError) as refused:
        set_status(database, public_id, status, message)
    assert refused.value.field == "message" and words in refused.value.message
    assert messages(database) == []
    assert (
        database.run(
            lambda s: s.execute(
                select(Ticket.status).where(Ticket.public_id == public_id)
            ).scalar_one()
        )
        == "ny"
    ), "nothing changed"


def test_a_widget_message_counts_as_delivered_once_its_recipient_saw_it(database):
    public_id = database.run(lambda s: ticket(s, "intranet:per").public_id)
    set_status(database, public_id, "lost")
    other = database.run(lambda s: ticket(s, "intranet:ola").public_id)
    set_status(database, other, "lost")
    pending = database.run(lambda s: user_messages.pending_for_widget(s, "intranet:per"))
    assert [p.text for p in pending] == [f"Saken din {public_id} er løst."]
    ola = database.run(lambda s: user_messages.pending_for_widget(s, "intranet:ola"))
    # Per cannot acknowledge Ola's message, and a repeated acknowledgement counts once.
    ids = [pending[0].id, ola[0].id]
    assert database.run(lambda s: user_messages.mark_shown(s, "intranet:per", ids)) == 1
    assert database.run(lambda s: user_messages.mark_shown(s, "intranet:per", ids)) == 0
    assert database.run(lambda s: user_messages.pending_for_widget(s, "intranet:per")) == []
    assert len(database.run(lambda s: user_messages.pending_for_widget(s, "intranet:ola"))) == 1
    audit = database.run(
        lambda s: s.execute(
            select(TicketAudit.actor, TicketAudit.action).where(TicketAudit.action == "messaged")
        ).all()
    )
    assert audit == [("rakel", "messaged")]


def test_retention_deletes_old_messages_and_notice_tellings_but_keeps_who_is_owed_one(
    database, settings
):
    now = datetime.now(timezone.utc)
    notice_id, tickets = outage_with_tickets(database, ["teams:aad-kari", "teams:aad-ola"])
    resolve(database, notice_id)  # a message for each, not sent yet

    def age(session):
        # Kari's message and an old telling are 100 days old; Ola's is recent. Neither
        # has used Teams for 120 days; Kari's ticket is still open, Ola's is closed.
        kari, ola = session.execute(select(UserMessage).order_by(UserMessage.id)).scalars()
        kari.created_at = now - timedelta(days=100)
        notices.record_shown(
            session, [notice_id], "old-conversation", "m1", now - timedelta(days=100)
        )
        notices.record_shown(
            session, [notice_id], "new-conversation", "m2", now - timedelta(days=10)
        )
        for row in session.execute(select(Ticket)).scalars():
            row.status = "under_arbeid" if row.requester_id == "teams:aad-kari" else "lost"
        for name in ("kari", "ola"):
            save_reference(
                session,
                {
                    "user_id": f"teams:29:{name}",
                    "aad_object_id": f"teams:aad-{name}",
                    "tenant_id": "t",
                    "service_url": "https://smba.example/",
                    "conversation_id": f"conv-{name}",
                    "bot_id": "28:rakel",
                },
            )
        session.flush()
        session.execute(
            update(TeamsConversationReference).values(updated_at=now - timedelta(days=120))
        )

    database.run(age)
    result = run_retention(settings, database, now)
    assert (result.user_messages, result.notice_shown, result.teams_references) == (1, 1, 0)
    assert [m.recipient_id for m in messages(database)] == ["teams:aad-ola"]
    shown = database.run(lambda s: s.execute(select(func.count(NoticeShown.id))).scalar_one())
    assert shown == 1
    kept = database.run(
        lambda s: sorted(s.execute(select(TeamsConversationReference.user_id)).scalars())
    )
    # Kari may still be told about her open ticket, Ola is owed a message.
    assert kept == ["teams:29:kari", "teams:29:ola"]


def test_the_worker_refuses_a_lease_shorter_than_the_bot_connector_timeout(tmp_path):
    settings = staff_settings(
        tmp_path, RAKEL_OUTBOX_LEASE_SECONDS="5", RAKEL_ITSM_TIMEOUT_SECONDS="2"
    )
    teams = load_teams_settings(FakeMicrosoft(port=1).env())
    with pytest.raises(SettingsError, match="Bot Connector timeout"):
        worker.check(settings, teams)
    worker.check(settings, load_teams_settings({}))  # without Teams the lease is enough


def test_a_persons_messages_are_in_their_data_export_and_go_with_their_deletion(database, settings):
    public_id = database.run(lambda s: ticket(s, "teams:aad-kari").public_id)
    set_status(database, public_id, "lost", "Ny lisens er lagt inn.")
    database.run(lambda s: ticket(s, "teams:aad-ola").id)
    found = person_data.find(database, settings.tracker_db_url, "teams:aad-kari")
    assert found.counts()["user_messages"] == 1
    [exported] = person_data.as_json(found)["tickets"]
    assert [m["payload"] for m in exported["messages"]] == [
        f"Saken din {public_id} er løst.\n\nMelding fra brukerstøtten: Ny lisens er lagt inn."
    ]
    person_data.delete_person(database, settings.tracker_db_url, "teams:aad-kari", actor="admin")
    assert messages(database) == []

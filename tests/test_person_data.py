"""Requests from the person concerned: find, export and delete one requester's data,
and nothing of anyone else's (GDPR art. 15 and 17)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text

from bot import migrate
from bot.db import Database
from bot.models import (
    Feedback,
    NluMiss,
    OutboxMessage,
    PersonDataAudit,
    TeamsConversationReference,
    Ticket,
    TicketAudit,
    TicketNote,
    utcnow,
)
from bot.person_data import (
    OpenTicketsError,
    as_json,
    delete_person,
    find,
    identity_digest,
    same_person,
)
from bot.settings import PROJECT_ROOT as ROOT
from bot.tickets.repository import add_note, create_ticket
from bot.tracker_store import RakelTrackerStore

TABLES = (
    Ticket,
    TicketNote,
    TicketAudit,
    OutboxMessage,
    Feedback,
    NluMiss,
    TeamsConversationReference,
)


async def conversation(store, sender, text_, identity=None):
    metadata = {"rakel_identity": identity} if identity else {"klient": "intranett"}
    now = utcnow().timestamp()
    tracker = DialogueStateTracker.from_events(
        sender,
        [
            ActionExecuted("action_listen", timestamp=now),
            UserUttered(
                text_, {"name": "greet", "confidence": 1.0}, metadata=metadata, timestamp=now
            ),
            BotUttered("Hei! Hva kan jeg hjelpe med?", timestamp=now + 1),
        ],
    )
    await store.save(tracker)


def person_rows(session, *, conversation_id, requester_id, aad=None, status="lukket", tag):
    ticket = create_ticket(
        session,
        channel="teams" if aad else "rest",
        conversation_id=conversation_id,
        requester_id=requester_id,
        requester_name=f"Navn {tag}",
        contact=f"{tag}@molde.kommune.no",
        category="teams",
        description=f"Skjermen til {tag} er svart",
        outbox=True,
    )
    add_note(session, ticket, "ola", f"Ringte {tag}")
    ticket.status = status
    session.add(
        Feedback(conversation_id=conversation_id, channel="rest", article_id="vpn", helped=False)
    )
    session.add(
        NluMiss(conversation_id=conversation_id, channel="rest", kind="fallback", text=f"{tag} her")
    )
    if aad:
        session.add(
            TeamsConversationReference(
                user_id=conversation_id,
                aad_object_id=aad,
                service_url="https://smba.trafficmanager.net/emea/",
                conversation_id=f"a:{tag}",
                bot_id="28:bot",
            )
        )
    return ticket.public_id


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stores(request, tmp_path):
    """Rakel's tables and Rasa's tracker store, on SQLite or (both) on PostgreSQL."""
    if request.param == "sqlite":
        url, tracker_url = (f"sqlite:///{tmp_path / name}" for name in ("rakel.db", "tracker.db"))
    else:
        url = tracker_url = request.getfixturevalue("postgres_url")
    database = Database(url)
    migrate.upgrade(database)
    store = RakelTrackerStore(domain=Domain.empty(), url=tracker_url)
    yield database, tracker_url, store
    store.engine.dispose()
    database.dispose()


@pytest.fixture
async def people(stores):
    """Kari (Teams, one old raw-id ticket and one namespaced), Per (anonymous REST),
    Ola, whose intranet id equals Kari's Entra id, and a REST caller using it as sender."""
    database, _, store = stores

    def work(session):
        return {
            "kari_old": person_rows(
                session,
                conversation_id="29:kari",
                requester_id="aad-kari",
                aad="aad-kari",
                tag="kari",
            ),
            "kari_new": person_rows(
                session,
                conversation_id="29:kari-2",
                requester_id="teams:aad-kari",
                tag="kari2",
            ),
            "per": person_rows(
                session, conversation_id="rest-per", requester_id="anon:rest:rest-per", tag="per"
            ),
            "ola": person_rows(
                session,
                conversation_id="widget-ola",
                requester_id="intranet:aad-kari",
                tag="ola",
            ),
        }

    tickets = database.run(work)
    teams = {"id": "aad-kari", "name": "Kari", "source": "teams"}
    await conversation(store, "29:kari", "Hei, Kari her", teams)
    await conversation(store, "29:kari-2", "Kari igjen", teams)
    # A conversation with no ticket, found only by the verified identity in its messages.
    await conversation(store, "29:kari-3", "Bare et spørsmål", teams)
    await conversation(store, "rest-per", "Per spør")
    await conversation(
        store, "widget-ola", "Ola her", {"id": "aad-kari", "name": "Ola", "source": "intranet"}
    )
    # A REST caller who chose Kari's Entra id as sender id is not Kari.
    await conversation(store, "aad-kari", "Jeg later som jeg er Kari")
    return tickets


def snapshot(database, tracker_url):
    rows = {
        model.__tablename__: database.run(lambda s, m=model: sorted(r.id for r in s.query(m)))
        for model in TABLES
    }
    engine = create_engine(tracker_url)
    with engine.connect() as connection:
        rows["events"] = sorted(
            tuple(r) for r in connection.execute(text("SELECT id, sender_id FROM events"))
        )
    engine.dispose()
    return rows


def test_identities_match_raw_and_namespaced_forms_but_not_other_sources():
    assert same_person("aad-kari", "teams:aad-kari")
    assert same_person("teams:aad-kari", "aad-kari")
    assert same_person("anon:rest:rest-per", "rest-per")
    assert not same_person("intranet:aad-kari", "teams:aad-kari")
    assert not same_person("aad-karianne", "aad-kari")


async def test_find_lists_everything_of_one_person_only(stores, people):
    database, tracker_url, _ = stores
    found = find(database, tracker_url, "teams:aad-kari")

    assert sorted(t.public_id for t in found.tickets) == sorted(
        [people["kari_old"], people["kari_new"]]
    )
    assert {f.conversation_id for f in found.feedback} == {"29:kari", "29:kari-2"}
    assert {m.text for m in found.misses} == {"kari her", "kari2 her"}
    assert [r.user_id for r in found.teams_references] == ["29:kari"]
    assert {e["sender_id"] for e in found.events} == {"29:kari", "29:kari-2", "29:kari-3"}
    assert found.counts()["ticket_notes"] == 2


async def test_export_is_json_with_the_persons_texts_and_none_of_anothers(stores, people):
    database, tracker_url, _ = stores
    exported = json.loads(json.dumps(as_json(find(database, tracker_url, "anon:rest:rest-per"))))

    assert [t["description"] for t in exported["tickets"]] == ["Skjermen til per er svart"]
    assert exported["tickets"][0]["notes"][0]["text"] == "Ringte per"
    assert exported["tickets"][0]["transcript"] == []
    user_texts = [
        e["text"] for c in exported["conversations"] for e in c["events"] if e["event"] == "user"
    ]
    assert user_texts == ["Per spør"]
    assert "kari" not in json.dumps(exported).lower()


async def test_delete_removes_every_row_of_the_person_and_nothing_else(stores, people):
    database, tracker_url, _ = stores
    before = snapshot(database, tracker_url)
    kari = find(database, tracker_url, "teams:aad-kari")
    kari_rows = {
        "tickets": {t.id for t in kari.tickets},
        "ticket_notes": {n.id for n in kari.notes},
        "ticket_audit": {a.id for a in kari.ticket_audit},
        "outbox": {o.id for o in kari.outbox},
        "feedback": {f.id for f in kari.feedback},
        "nlu_misses": {m.id for m in kari.misses},
        "teams_conversation_references": {r.id for r in kari.teams_references},
    }

    deletion = delete_person(database, tracker_url, "teams:aad-kari", actor="admin")

    after = snapshot(database, tracker_url)
    for table, ids in kari_rows.items():
        assert ids, f"the fixture gives Kari {table} rows"
        assert after[table] == sorted(set(before[table]) - ids), table
    others = ("rest-per", "widget-ola", "aad-kari")
    assert {sender for _, sender in after["events"]} == set(others)
    assert [e for e in before["events"] if e[1] in others] == after["events"]
    assert find(database, tracker_url, "teams:aad-kari").empty
    assert deletion.counts["tickets"] == 2 and deletion.counts["conversations"] == 3
    audit = database.run(lambda s: s.get(PersonDataAudit, deletion.audit_id))
    assert (audit.actor, audit.action) == ("admin", "deleted")
    assert audit.identity_sha256 == identity_digest("teams:aad-kari")
    assert "aad-kari" not in f"{audit.tickets} {audit.counts} {audit.reason}"


async def test_open_tickets_need_force_and_a_reason(stores, people):
    database, tracker_url, _ = stores
    database.run(
        lambda s: setattr(
            s.query(Ticket).filter_by(requester_id="anon:rest:rest-per").one(), "status", "ny"
        )
    )
    before = snapshot(database, tracker_url)
    for force, reason in ((False, None), (True, None), (False, "brukeren ba om det")):
        with pytest.raises(OpenTicketsError, match="--force and --reason"):
            delete_person(database, tracker_url, "rest-per", actor="a", force=force, reason=reason)
    assert snapshot(database, tracker_url) == before

    delete_person(
        database, tracker_url, "rest-per", actor="a", force=True, reason="Brukeren trakk saken"
    )
    assert find(database, tracker_url, "rest-per").empty
    assert database.run(lambda s: s.query(PersonDataAudit).one().reason) == "Brukeren trakk saken"


def cli(tmp_path, *args):
    env = {"RAKEL_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


async def test_person_command_exports_and_deletes(tmp_path, monkeypatch):
    assert cli(tmp_path, "migrate").returncode == 0
    database = Database(f"sqlite:///{tmp_path / 'rakel.db'}")
    store = RakelTrackerStore(domain=Domain.empty(), url=f"sqlite:///{tmp_path / 'tracker.db'}")
    database.run(
        lambda s: person_rows(
            s, conversation_id="rest-per", requester_id="rest-per", status="ny", tag="per"
        )
    )
    await conversation(store, "rest-per", "Per spør")

    exported = cli(tmp_path, "person", "export", "rest-per")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["tickets"][0]["description"] == "Skjermen til per er svart"

    refused = cli(tmp_path, "person", "delete", "rest-per")
    assert refused.returncode == 2
    assert "open ticket(s) (RAK-1001): pass --force and --reason" in refused.stderr

    deleted = cli(tmp_path, "person", "delete", "rest-per", "--force", "--reason", "Avsluttet")
    assert deleted.returncode == 0, deleted.stderr
    assert json.loads(deleted.stdout)["deleted"]["tickets"] == 1
    found = json.loads(cli(tmp_path, "person", "find", "rest-per").stdout)
    assert found["tickets"] == 0 and found["tracker_events"] == 0
    actions = database.run(lambda s: [a.action for a in s.query(PersonDataAudit).order_by("id")])
    assert actions == ["exported", "deleted"]
    database.dispose()

"""Retention: everything personal older than RAKEL_RETENTION_DAYS goes: conversations
(with client metadata), closed tickets, feedback, missed messages, Teams references."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text

from bot.models import (
    Feedback,
    LoginFailure,
    NluMiss,
    OutboxMessage,
    TeamsConversationReference,
    Ticket,
    TicketAudit,
    TicketNote,
    utcnow,
)
from bot.retention import run_retention
from bot.settings import PROJECT_ROOT as ROOT
from bot.settings import load_settings
from bot.tickets.repository import add_note, create_ticket
from bot.tracker_store import RakelTrackerStore

DAY = 24 * 3600


async def save_conversation(store, sender, timestamp, metadata=None):
    tracker = DialogueStateTracker.from_events(
        sender,
        [
            ActionExecuted("action_listen", timestamp=timestamp),
            UserUttered(
                "hei", {"name": "greet", "confidence": 1.0}, timestamp=timestamp, metadata=metadata
            ),
            BotUttered("Hei!", timestamp=timestamp + 1),
        ],
    )
    await store.save(tracker)


def ticket(db, status, age_days, n):
    def work(session):
        row = create_ticket(
            session,
            channel="rest",
            conversation_id=f"c{n}",
            requester_id=f"u{n}",
            category="teams",
            outbox=True,
            description=f"Sak {n} om Teams",
        )
        add_note(session, row, "ola", "Sjekket lisensen")
        row.status = status
        row.updated_at = utcnow() - timedelta(days=age_days)
        return row.id

    return db.run(work)


async def test_old_conversations_and_closed_tickets_are_deleted(db, tmp_path, monkeypatch):
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = RakelTrackerStore(domain=Domain.empty(), url=tracker_url)
    now = utcnow().timestamp()
    await save_conversation(store, "old-user", now - 100 * DAY)
    await save_conversation(store, "recent-user", now - 10 * DAY)

    old_closed = ticket(db, "lukket", 100, 1)
    old_solved = ticket(db, "lost", 95, 2)
    old_open = ticket(db, "under_arbeid", 200, 3)  # never deleted while open
    recent_closed = ticket(db, "lukket", 30, 4)

    monkeypatch.setenv("RAKEL_DB_URL", db.url)
    monkeypatch.setenv("RAKEL_TRACKER_DB_URL", tracker_url)
    monkeypatch.setenv("RAKEL_RETENTION_DAYS", "90")
    result = run_retention(load_settings(), db)

    assert (result.tracker_events, result.tickets) == (3, 2)
    engine = create_engine(tracker_url)
    with engine.connect() as connection:
        senders = connection.execute(text("SELECT DISTINCT sender_id FROM events")).scalars()
        assert set(senders) == {"recent-user"}
    engine.dispose()
    assert [
        e.text for e in (await store.retrieve("recent-user")).events if isinstance(e, UserUttered)
    ] == ["hei"]

    remaining = db.run(lambda s: sorted(id_ for (id_,) in s.query(Ticket.id)))
    assert remaining == [old_open, recent_closed]
    for model in (TicketNote, TicketAudit, OutboxMessage):
        orphans = db.run(
            lambda s, m=model: s.query(m).filter(m.ticket_id.in_([old_closed, old_solved])).count()
        )
        assert orphans == 0, f"{model.__tablename__} rows of deleted tickets remain"


def personal_rows(db, age_days, tag):
    """One feedback row, one missed message, one Teams reference and one failed staff
    login, `age_days` old."""
    when = utcnow() - timedelta(days=age_days)

    def work(session):
        session.add(
            Feedback(
                conversation_id=tag, channel="rest", article_id="vpn", helped=True, created_at=when
            )
        )
        session.add(
            NluMiss(
                conversation_id=tag,
                channel="rest",
                kind="fallback",
                text=f"Jeg heter {tag} og bor i Molde",
                created_at=when,
            )
        )
        session.add(
            TeamsConversationReference(
                user_id=f"29:{tag}",
                aad_object_id=f"aad-{tag}",
                service_url="https://smba.trafficmanager.net/emea/",
                conversation_id=f"a:{tag}",
                bot_id="28:bot",
                updated_at=when,
            )
        )
        session.add(LoginFailure(username=tag, address="10.0.0.7", at=when))

    db.run(work)


async def test_feedback_misses_references_and_client_metadata_are_deleted_by_age(
    db, tmp_path, monkeypatch
):
    personal_rows(db, 100, "old")
    personal_rows(db, 10, "recent")
    # An old reference whose user still has an open case: Rakel must be able to tell them.
    personal_rows(db, 120, "waiting")

    def open_ticket(session):
        create_ticket(
            session,
            channel="teams",
            conversation_id="29:waiting",
            requester_id="teams:aad-waiting",
            category="teams",
            description="Venter på ny PC",
        )

    db.run(open_ticket)
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = RakelTrackerStore(domain=Domain.empty(), url=tracker_url)
    now = utcnow().timestamp()
    await save_conversation(store, "old-user", now - 100 * DAY, {"telefon": "912 34 567"})
    await save_conversation(store, "recent-user", now - 10 * DAY, {"avdeling": "skole"})

    monkeypatch.setenv("RAKEL_DB_URL", db.url)
    monkeypatch.setenv("RAKEL_TRACKER_DB_URL", tracker_url)
    monkeypatch.setenv("RAKEL_RETENTION_DAYS", "90")
    result = run_retention(load_settings(), db)

    assert (result.feedback, result.nlu_misses, result.teams_references) == (2, 2, 1)
    assert result.login_failures == 2
    assert db.run(lambda s: [f.username for f in s.query(LoginFailure)]) == ["recent"]
    assert db.run(lambda s: sorted(f.conversation_id for f in s.query(Feedback))) == ["recent"]
    assert db.run(lambda s: [m.text for m in s.query(NluMiss)]) == [
        "Jeg heter recent og bor i Molde"
    ]
    references = db.run(lambda s: sorted(r.user_id for r in s.query(TeamsConversationReference)))
    assert references == ["29:recent", "29:waiting"]
    engine = create_engine(tracker_url)
    with engine.connect() as connection:
        data = " ".join(connection.execute(text("SELECT data FROM events")).scalars())
    engine.dispose()
    assert "912 34 567" not in data
    assert "skole" in data


def test_retention_command_runs_once(tmp_path):
    env = {"RAKEL_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "retention"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert "deleted 0 tracker events and 0 closed tickets" in result.stdout

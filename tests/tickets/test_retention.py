"""Retention: conversations and closed tickets older than RAKEL_RETENTION_DAYS go."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text

from bot.models import OutboxMessage, Ticket, TicketAudit, TicketNote, utcnow
from bot.retention import run_retention
from bot.settings import PROJECT_ROOT as ROOT
from bot.settings import load_settings
from bot.tickets.repository import add_note, create_ticket
from bot.tracker_store import RakelTrackerStore

DAY = 24 * 3600


async def save_conversation(store, sender, timestamp):
    tracker = DialogueStateTracker.from_events(
        sender,
        [
            ActionExecuted("action_listen", timestamp=timestamp),
            UserUttered("hei", {"name": "greet", "confidence": 1.0}, timestamp=timestamp),
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

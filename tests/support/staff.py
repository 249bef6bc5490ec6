"""Helpers for the service-desk tests: a migrated database, tickets, a logged-in client."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bot import migrate
from bot.db import Database
from bot.models import TICKET_ID_OFFSET, TICKET_ID_PREFIX, NluMiss, Ticket, TicketAudit
from bot.settings import Settings, load_settings

ADMIN = "admin"
ADMIN_PASSWORD = "korrekt-hest-batteri-42"

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def staff_settings(var_dir: Path, **env: str) -> Settings:
    """Settings for the staff pages under test: the bootstrap admin, plain http."""
    return load_settings(
        {
            "RAKEL_VAR_DIR": str(var_dir),
            "RAKEL_DB_URL": f"sqlite:///{var_dir / 'rakel.db'}",
            "RAKEL_TRACKER_DB_URL": f"sqlite:///{var_dir / 'tracker.db'}",
            "RAKEL_ADMIN_USER": ADMIN,
            "RAKEL_ADMIN_PASSWORD": ADMIN_PASSWORD,
            # aiohttp's test client talks plain http and keeps Secure cookies to itself.
            "RAKEL_COOKIE_SECURE": "0",
            **env,
        }
    )


def migrated(settings: Settings) -> Database:
    database = Database(settings.db_url)
    migrate.upgrade(database)
    return database


def make_ticket(database: Database, **fields: Any) -> str:
    """Insert a ticket the way the ticket form stores it; returns its public id."""
    now = datetime.now(timezone.utc)
    transcript = fields.pop(
        "transcript",
        [
            {
                "sender": "user",
                "text": "Kameraet virker ikke i Teams",
                "timestamp": (now - timedelta(minutes=3)).isoformat(),
                "buttons": [],
                "payload": None,
            },
            {
                "sender": "bot",
                "text": "Hjalp dette?",
                "timestamp": (now - timedelta(minutes=2)).isoformat(),
                "buttons": [
                    {"title": "Ja", "payload": "/affirm"},
                    {"title": "Nei", "payload": "/deny"},
                ],
                "payload": None,
            },
            {
                "sender": "user",
                "text": "/deny",
                "timestamp": (now - timedelta(minutes=1)).timestamp(),
                "buttons": [],
                "payload": "/deny",
            },
        ],
    )
    values: dict[str, Any] = {
        "channel": "rest",
        "conversation_id": "conv-1",
        "requester_id": "conv-1",
        "requester_name": "Kari Nordmann",
        "municipality": "Molde",
        "category": "teams",
        "priority": "normal",
        "summary": "Kamera virker ikke",
        "status": "ny",
        "description": "Kameraet er svart i Teams-møter.",
        "created_at": now,
        "updated_at": now,
        **fields,
    }
    values["transcript"] = json.dumps(transcript)

    def work(session):  # type: ignore[no-untyped-def]
        ticket = Ticket(**values)
        session.add(ticket)
        session.flush()
        ticket.public_id = f"{TICKET_ID_PREFIX}{TICKET_ID_OFFSET + ticket.id}"
        session.add(TicketAudit(ticket_id=ticket.id, actor="rakel", action="created"))
        return ticket.public_id

    return database.run(work)


def make_miss(
    database: Database, text: str, kind: str = "fallback", conversation_id: str = "conv-miss"
) -> int:
    def work(session):  # type: ignore[no-untyped-def]
        miss = NluMiss(
            conversation_id=conversation_id,
            channel="rest",
            kind=kind,
            text=text,
            predicted_intent="nlu_fallback",
            confidence=0.31,
        )
        session.add(miss)
        session.flush()
        return miss.id

    return database.run(work)


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)

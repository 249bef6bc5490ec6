"""Rasa's SQL tracker store, configured from one URL (`RAKEL_TRACKER_DB_URL`).

Conversations survive restarts because every event is written to SQL. Rasa's
SQLTrackerStore wants host/port/db separately; we take the same URL style as our own
database so operators set one kind of value, and give SQLite WAL and a busy timeout
(the action server and web service read while Rasa writes).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from bot.db import SQLITE_BUSY_TIMEOUT_MS
from bot.settings import load_settings

SQLITE_POOL_SIZE = 4


class RakelTrackerStore(SQLTrackerStore):
    def __init__(
        self,
        domain: Domain | None = None,
        event_broker: EventBroker | None = None,
        url: str | None = None,
        **kwargs: Any,
    ) -> None:
        url = url or load_settings().tracker_db_url
        # Rasa passes the endpoint's `url` as `host` to custom stores; ours is `url`.
        kwargs.pop("host", None)
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        if backend == "sqlite" and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(
            domain=domain,
            dialect=parsed.drivername,
            host=parsed.host,
            port=parsed.port,
            db=parsed.database,
            username=parsed.username,
            password=parsed.password,
            login_db=kwargs.pop("login_db", None),
            query=dict(parsed.query),
            event_broker=event_broker,
            **kwargs,
        )
        if backend == "sqlite":
            self._tune_sqlite()

    def _tune_sqlite(self) -> None:
        # SQLAlchemy 1.4 (Rasa's pin) opens and closes a new connection for every
        # session on a SQLite file (NullPool), and Rasa uses two or three sessions per
        # message; each new connection also re-runs the PRAGMAs below. Keep a few
        # connections open instead, as SQLAlchemy 2.0 does by default. Rasa's server
        # runs one event loop, so a pooled connection is used by one caller at a time.
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url,
            poolclass=QueuePool,
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=SQLITE_POOL_SIZE,
            connect_args={"check_same_thread": False},
        )

        @event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()

        self.sessionmaker = sessionmaker(bind=self.engine)

"""A throwaway PostgreSQL cluster for the storage tests (pytest plugin).

`postgres_server` starts a private cluster once per session (devtools.postgres, data
in a temp folder, a free port on 127.0.0.1) and stops it at the end; `postgres_url`
gives each test a fresh, empty database. Set RAKEL_TEST_PG_URL (a server URL whose
user may CREATE DATABASE) to use an existing server instead.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from devtools.ports import free_port
from devtools.postgres import Postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a PostgreSQL server's maintenance database (for CREATE DATABASE)."""
    configured = os.environ.get("RAKEL_TEST_PG_URL")
    if configured:
        yield configured
        return
    root = Path(tempfile.mkdtemp(prefix="rakel-pg-"))
    root.chmod(0o711)  # as root the server runs as `postgres`, which must pass through
    cluster = Postgres(
        root / "cluster",
        free_port(),
        secrets.token_urlsafe(16),
        durable=False,
        max_connections=120,
    )
    try:
        cluster.start()
        yield cluster.url("postgres")
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh empty database on the test server, dropped after the test."""
    name = f"rakel_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

"""A throwaway PostgreSQL 15 cluster for the storage tests (pytest plugin).

`postgres_server` starts a private cluster once per session (initdb + pg_ctl from
/usr/lib/postgresql/15/bin, data in a temp folder, a free port on 127.0.0.1) and
stops it at the end; `postgres_url` gives each test a fresh, empty database. initdb
refuses to run as root, so as root the binaries run as the `postgres` OS user.
Set RAKEL_TEST_PG_URL (a server URL whose user may CREATE DATABASE) to use an
existing server instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from tests.support.processes import free_port

PG_BIN = Path(os.environ.get("RAKEL_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
OS_USER = "postgres"


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", OS_USER, "--", *command] if os.geteuid() == 0 else command


class ThrowawayCluster:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="rakel-pg-"))
        self.data = self.root / "data"
        self.port = free_port()

    def start(self) -> str:
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(
                f"PostgreSQL 15 is not installed in {PG_BIN} "
                "(scripts/test-deps.sh installs it); or set RAKEL_TEST_PG_URL"
            )
        if os.geteuid() == 0:
            shutil.chown(self.root, OS_USER, OS_USER)
        self._run(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        # fsync off: a crash only loses this throwaway cluster; tests run faster.
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c max_connections=120"
        )
        self._run(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.root / "server.log"),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
            ]
        )
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run(
                _as_postgres(
                    [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]
                ),
                capture_output=True,
                check=False,
                timeout=60,
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, command: list[str]) -> None:
        result = subprocess.run(
            _as_postgres(command),
            capture_output=True,
            text=True,
            cwd=self.root,
            check=False,
            timeout=120,
        )
        if result.returncode != 0:
            log = self.root / "server.log"
            raise RuntimeError(
                f"{command[0]} failed: {result.stderr or result.stdout}\n"
                f"{log.read_text() if log.exists() else ''}"
            )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a PostgreSQL server's maintenance database (for CREATE DATABASE)."""
    configured = os.environ.get("RAKEL_TEST_PG_URL")
    if configured:
        yield configured
        return
    cluster = ThrowawayCluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()


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

"""A throwaway PostgreSQL cluster from Debian's packages, as our own process.

One recipe for the storage tests (a cluster per test session) and the scaled profile
(the shared database of its replicas): initdb into a folder, a server on a loopback
port with its socket in that folder, password authentication for the `postgres`
superuser. initdb and the server refuse to run as root, so as root the binaries run
as the `postgres` OS user, which must be able to reach the folder.
"""

from __future__ import annotations

import glob
import os
import pwd
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL

from devtools.ports import LOOPBACK

OS_USER = "postgres"
SUPERUSER = "postgres"


class PostgresMissing(RuntimeError):
    """PostgreSQL's server binaries are not installed."""


def pg_bin(name: str) -> str:
    """The newest installed PostgreSQL's `name` (initdb, pg_ctl)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise PostgresMissing(
            f"PostgreSQL's {name} not found: run scripts/test-deps.sh "
            "(installs Debian's postgresql package)"
        )
    return found[-1]


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", OS_USER, "--", *command]
    return command


def _give_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(OS_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def check_traversable(path: Path) -> None:
    """As root the server runs as `postgres`: every parent folder must let others pass."""
    if os.geteuid() != 0:
        return
    for parent in [path, *path.parents]:
        if parent.exists() and not parent.stat().st_mode & 0o001:
            raise PermissionError(
                f"{parent} is not searchable by the postgres user "
                f"(mode {oct(parent.stat().st_mode & 0o777)}); "
                "put the cluster's folder elsewhere or chmod o+x it"
            )


class Postgres:
    """A cluster in `folder` (data, log, socket) on LOOPBACK:`port`.

    `durable=False` turns fsync off: a crash then only loses a cluster nobody keeps,
    and the tests run faster. The scaled profile keeps it on (it can keep its data).
    """

    def __init__(
        self,
        folder: Path,
        port: int,
        password: str,
        *,
        durable: bool = True,
        max_connections: int = 300,
    ) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = port
        self.password = password
        self.durable = durable
        self.max_connections = max_connections

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def url(self, database: str, user: str = SUPERUSER, password: str | None = None) -> str:
        return URL.create(
            "postgresql+psycopg2",
            username=user,
            password=self.password if password is None else password,
            host=LOOPBACK,
            port=self.port,
            database=database,
        ).render_as_string(hide_password=False)

    def start(self) -> None:
        """initdb on first use, then start the server and wait until it accepts connections."""
        check_traversable(self.folder.parent)
        self.folder.mkdir(parents=True, exist_ok=True)
        _give_to_postgres(self.folder)
        os.chmod(self.folder, 0o700)
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        options = (
            f"-c listen_addresses={LOOPBACK} -p {self.port} "
            f"-c unix_socket_directories={self.folder} -c max_connections={self.max_connections}"
        )
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off"
        self._run(
            [pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60"]
            + ["-o", options, "start"]
        )

    def _initdb(self) -> None:
        pwfile = self.folder / "pwfile"
        pwfile.write_text(self.password + "\n")
        _give_to_postgres(pwfile)
        os.chmod(pwfile, 0o600)
        try:
            self._run(
                [
                    pg_bin("initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    SUPERUSER,
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-instructions",
                    # Only initdb's own writes; the server's fsync is `durable`'s business.
                    "--no-sync",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def create_role_and_databases(self, role: str, password: str, databases: list[str]) -> None:
        """A login role owning `databases`; what exists already is left as it is."""
        import psycopg2
        from psycopg2 import sql

        connection = psycopg2.connect(
            host=LOOPBACK,
            port=self.port,
            user=SUPERUSER,
            password=self.password,
            dbname="postgres",
        )
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
                if cursor.fetchone() is None:
                    cursor.execute(
                        sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                            sql.Identifier(role), sql.Literal(password)
                        )
                    )
                for database in databases:
                    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
                    if cursor.fetchone() is None:
                        cursor.execute(
                            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                                sql.Identifier(database), sql.Identifier(role)
                            )
                        )
        finally:
            connection.close()

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                _as_postgres([pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
                capture_output=True,
                check=False,
                timeout=60,
            )

    def _run(self, command: list[str]) -> None:
        result = subprocess.run(
            _as_postgres(command),
            capture_output=True,
            text=True,
            cwd=self.folder,
            check=False,
            timeout=120,
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(
                f"{Path(command[0]).name} failed: {result.stderr or result.stdout}\n{log}"
            )

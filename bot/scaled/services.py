"""Throwaway PostgreSQL, Redis and nginx instances from Debian's packages.

Each runs as our own process on loopback with its files under var/scaled/ — never
the system services. PostgreSQL runs as the `postgres` OS user because initdb and
the server refuse to run as root.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from bot.settings import SettingsError

LOOPBACK = "127.0.0.1"


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise SettingsError(
            f"PostgreSQL's {name} not found: run scripts/test-deps.sh "
            "(installs Debian's postgresql package)"
        )
    return found[-1]


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _check_traversable(path: Path) -> None:
    """initdb runs as `postgres`: every parent folder must let others pass."""
    if os.geteuid() != 0:
        return
    for parent in [path, *path.parents]:
        if parent.exists() and not parent.stat().st_mode & 0o001:
            raise SettingsError(
                f"{parent} is not searchable by the postgres user "
                f"(mode {oct(parent.stat().st_mode & 0o777)}); "
                "put the scaled profile's folder elsewhere or chmod o+x it"
            )


class Postgres:
    """A PostgreSQL 15 cluster in `folder`, with password auth for a `rakel` role."""

    def __init__(self, folder: Path, port: int, password: str) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = port
        self.password = password

    def url(self, database: str) -> str:
        return f"postgresql+psycopg2://rakel:{self.password}@{LOOPBACK}:{self.port}/{database}"

    def start(self) -> None:
        _check_traversable(self.folder.parent)
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        os.chmod(self.folder, 0o700)
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        subprocess.run(
            _as_postgres(
                [
                    _pg_bin("pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.folder / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    f"-c listen_addresses={LOOPBACK} -p {self.port} "
                    f"-c unix_socket_directories={self.folder} -c max_connections=300",
                    "start",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self._create_databases()

    def _initdb(self) -> None:
        pwfile = self.folder / "pwfile"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        os.chmod(pwfile, 0o600)
        try:
            subprocess.run(
                _as_postgres(
                    [
                        _pg_bin("initdb"),
                        "-D",
                        str(self.data),
                        "-U",
                        "postgres",
                        # --no-sync: a throwaway cluster; the server itself keeps fsync on.
                        "--auth=scram-sha-256",
                        f"--pwfile={pwfile}",
                        "-E",
                        "UTF8",
                        "--locale=C",
                        "--no-instructions",
                        "--no-sync",
                    ]
                ),
                check=True,
                stdout=subprocess.DEVNULL,
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def _create_databases(self) -> None:
        import psycopg2
        from psycopg2 import sql

        connection = psycopg2.connect(
            host=LOOPBACK,
            port=self.port,
            user="postgres",
            password=self.password,
            dbname="postgres",
        )
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = 'rakel'")
                if cursor.fetchone() is None:
                    cursor.execute(
                        sql.SQL("CREATE ROLE rakel LOGIN PASSWORD {}").format(
                            sql.Literal(self.password)
                        )
                    )
                for database in ("rakel", "rakel_tracker"):
                    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
                    if cursor.fetchone() is None:
                        cursor.execute(
                            sql.SQL("CREATE DATABASE {} OWNER rakel").format(
                                sql.Identifier(database)
                            )
                        )
        finally:
            connection.close()

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                _as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
                check=False,
                stdout=subprocess.DEVNULL,
            )


def redis_command(folder: Path, port: int, password: str) -> list[str]:
    """redis-server with a config file (the password stays out of `ps`)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "redis.conf"
    config.touch(mode=0o600)
    config.write_text(
        "\n".join(
            [
                f"bind {LOOPBACK}",
                f"port {port}",
                f"requirepass {password}",
                # Only locks live here: nothing worth persisting.
                'save ""',
                "appendonly no",
                f"dir {folder}",
                "daemonize no",
                f"logfile {folder / 'redis.log'}",
            ]
        )
        + "\n"
    )
    return [shutil.which("redis-server") or "/usr/bin/redis-server", str(config)]


def nginx_binary() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).exists():
        raise SettingsError("nginx not found: run scripts/test-deps.sh (Debian's nginx)")
    return found


def render_template(template: str, values: dict[str, str]) -> str:
    """Fill ${NAME} like the nginx image's envsubst; nginx's own $vars stay as they are."""
    for name, value in values.items():
        template = template.replace("${" + name + "}", value)
    missing = re.search(r"\$\{RAKEL_[A-Z0-9_]+\}", template)
    if missing:
        raise SettingsError(f"nginx template needs a value for {missing.group(0)}")
    return template


def nginx_setup(folder: Path, site: str) -> list[str]:
    """Write a main config around the rendered site; return the command to run it."""
    for sub in ("conf.d", "tmp", "logs"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "conf.d" / "rakel.conf").write_text(site)
    tmp = folder / "tmp"
    (folder / "nginx.conf").write_text(
        "\n".join(
            [
                "worker_processes 1;",
                f"pid {folder / 'nginx.pid'};",
                f"error_log {folder / 'logs' / 'error.log'} warn;",
                "daemon off;",
                "events { worker_connections 2048; }",
                "http {",
                f"  client_body_temp_path {tmp / 'body'};",
                f"  proxy_temp_path {tmp / 'proxy'};",
                f"  fastcgi_temp_path {tmp / 'fastcgi'};",
                f"  uwsgi_temp_path {tmp / 'uwsgi'};",
                f"  scgi_temp_path {tmp / 'scgi'};",
                f"  include {folder / 'conf.d'}/*.conf;",
                "}",
            ]
        )
        + "\n"
    )
    return [
        nginx_binary(),
        "-p",
        str(folder),
        "-c",
        str(folder / "nginx.conf"),
        "-e",
        str(folder / "logs" / "error.log"),
    ]


def stop_process_group(pid: int, timeout: float = 30) -> None:
    """SIGTERM the group, SIGKILL what is left after `timeout` seconds."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        _reap(pid)
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    _reap(pid)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass

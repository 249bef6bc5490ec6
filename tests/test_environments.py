"""Each process runs in its own Python environment (docs/architecture.md): the web service
and the worker on the web lock's current aiohttp and SQLAlchemy, not on Rasa's pins."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.settings import PROJECT_ROOT as ROOT
from devtools.ports import free_port
from devtools.processes import Rakel, make_env, rakel_command, spawn, stop_process_group
from devtools.readiness import wait_until

LINE = re.compile(
    r"^(?P<process>\w+): Python \S+ in (?P<prefix>\S+), "
    r"aiohttp (?P<aiohttp>\S+), SQLAlchemy (?P<sqlalchemy>\S+)$",
    re.MULTILINE,
)


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text()
    return {
        name.lower(): version
        for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.MULTILINE)
    }


def started_line(log: Path, process: str) -> re.Match[str] | None:
    text = log.read_text(errors="replace") if log.exists() else ""
    return next((m for m in LINE.finditer(text) if m["process"] == process), None)


@pytest.fixture
def process_env(tmp_path: Path) -> dict[str, str]:
    ports = {name: free_port() for name in ("rasa", "actions", "web")}
    env = make_env(tmp_path / "var", ports)
    subprocess.run([sys.executable, "-m", "bot.cli", "migrate"], cwd=ROOT, env=env, check=True)
    return env


def test_the_web_service_serves_on_the_web_locks_aiohttp_and_sqlalchemy(tmp_path, process_env):
    ports = {"web": int(process_env["RAKEL_WEB_PORT"])}
    logs = tmp_path / "logs"
    logs.mkdir()
    web = Rakel(var_dir=tmp_path / "var", env=process_env, ports=ports, logs=logs)
    try:
        web.start("web", timeout=60)  # answers /health?ready: it serves, on what it says
    finally:
        web.stop_all()
    line = started_line(logs / "web.log", "web")
    assert line, web.log("web")
    lock = pins("web-lock.txt")
    assert (line["aiohttp"], line["sqlalchemy"]) == (lock["aiohttp"], lock["sqlalchemy"])
    assert line["aiohttp"] != pins("rasa-lock.txt")["aiohttp"]


def test_the_worker_runs_on_the_web_locks_aiohttp_and_sqlalchemy(tmp_path, process_env):
    # A conversation 100 days old and one from yesterday, stored here by Rasa's tracker
    # store (SQLAlchemy 1.4): the worker's first retention run, on SQLAlchemy 2, deletes
    # the old one from Rasa's tables.
    from rasa.shared.core.domain import Domain

    from bot.tracker_store import RakelTrackerStore
    from tests.tickets.test_retention import DAY, save_conversation

    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    process_env["RAKEL_TRACKER_DB_URL"] = tracker_url
    store = RakelTrackerStore(domain=Domain.empty(), url=tracker_url)
    now = time.time()
    asyncio.run(save_conversation(store, "old-user", now - 100 * DAY))
    asyncio.run(save_conversation(store, "recent-user", now - DAY))
    store.engine.dispose()

    log = tmp_path / "worker.log"
    # Started with this interpreter (the Rasa environment when run there): the worker
    # must still end up in its own.
    command = [sys.executable, "-m", "bot.cli", "run", "worker"]
    process = spawn(command, process_env, log)
    try:
        wait_until(
            lambda: "retention (" in log.read_text(errors="replace"),
            timeout=60,
            what="the worker's first retention run",
            process=process,
        )
    finally:
        stop_process_group(process.pid)
        process.wait(timeout=10)
    output = log.read_text(errors="replace")
    line = started_line(log, "worker")
    assert line, output
    lock = pins("web-lock.txt")
    assert (line["aiohttp"], line["sqlalchemy"]) == (lock["aiohttp"], lock["sqlalchemy"])
    assert line["sqlalchemy"] != pins("rasa-lock.txt")["sqlalchemy"]
    assert "worker cycle failed" not in output
    engine = create_engine(tracker_url)
    with engine.connect() as connection:
        senders = set(connection.execute(text("SELECT DISTINCT sender_id FROM events")).scalars())
    engine.dispose()
    assert senders == {"recent-user"}


def test_rasa_processes_stay_in_the_rasa_environment(tmp_path):
    env = make_env(tmp_path / "var", {"rasa": 1, "actions": 1, "web": 1})
    env.pop("RAKEL_VENV", None)  # the default, whatever this run was given
    for process in ("rasa", "actions"):
        assert rakel_command(process, env)[0] == str(ROOT / ".venv" / "bin" / "python")
    env["RAKEL_VENV"] = "/opt/rakel/rasa-env"
    assert rakel_command("actions", env)[0] == "/opt/rakel/rasa-env/bin/python"


def test_setup_of_the_web_environment_takes_seconds_when_nothing_changed():
    started = time.monotonic()
    result = subprocess.run(
        [str(ROOT / "scripts" / "setup_web.sh")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "", "nothing changed: nothing to install"
    assert time.monotonic() - started < 5

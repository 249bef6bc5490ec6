"""Forwarding to an external ITSM system through the outbox and the worker process.

A fake ITSM (aiohttp, 127.0.0.1) fails the first deliveries, is down for a while, and
the worker is SIGKILLed while a delivery is in flight (received by the ITSM, not yet
recorded by Rakel). Every ticket still arrives, exactly once by idempotency key.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import select

from bot import migrate
from bot.db import Database
from bot.models import OutboxMessage, Ticket, TicketAudit
from bot.settings import PROJECT_ROOT as ROOT
from bot.tickets.repository import create_ticket
from devtools.ports import free_port


class FakeItsm:
    """Accepts tickets, dropping repeats by Idempotency-Key like a real ITSM API."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[str] = []
        self.accepted: dict[str, dict] = {}
        self.fail_first = 0
        self.hang_on: set[int] = set()
        self.hanging = asyncio.Event()
        self.delay = 0.0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/tickets"

    async def handle(self, request: web.Request) -> web.Response:
        key = request.headers["Idempotency-Key"]
        body = await request.json()
        self.received.append(key)
        number = len(self.received)
        if number <= self.fail_first:
            return web.Response(status=500, text="internal error")
        self.accepted.setdefault(key, body)  # committed on the ITSM's side …
        if number in self.hang_on:
            self.hanging.set()  # … and the test kills the worker before it hears back
            await asyncio.sleep(2)
        await asyncio.sleep(self.delay)
        return web.json_response({"ok": True}, status=201)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/tickets", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class Worker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run", "worker"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=20)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def worker_env(tmp_path: Path, db_url: str, itsm: FakeItsm) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "RAKEL_VAR_DIR": str(tmp_path / "var"),
            "RAKEL_DB_URL": db_url,
            "RAKEL_TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
            "RAKEL_ITSM_URL": itsm.url,
            "RAKEL_ITSM_TIMEOUT_SECONDS": "2",
            "RAKEL_OUTBOX_LEASE_SECONDS": "3",
            "RAKEL_ITSM_RETRY_BASE_SECONDS": "0.2",
            "RAKEL_ITSM_RETRY_MAX_SECONDS": "1",
            "RAKEL_WORKER_POLL_SECONDS": "0.2",
        }
    )
    return env


def make_tickets(db: Database, count: int) -> list[str]:
    def work(session):
        for n in range(count):
            create_ticket(
                session,
                channel="rest",
                conversation_id=f"c{n}",
                requester_id=f"u{n}",
                category="teams",
                outbox=True,
                description=f"Teams virker ikke, sak {n}",
            )
        return list(session.execute(select(OutboxMessage.idempotency_key)).scalars())

    return db.run(work)


async def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def pending(db: Database) -> int:
    return db.run(
        lambda s: s.query(OutboxMessage).filter(OutboxMessage.delivered_at.is_(None)).count()
    )


async def test_every_ticket_arrives_once_despite_errors_outage_and_kill(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'rakel.db'}")
    migrate.upgrade(db)
    keys = make_tickets(db, 8)
    # The local tickets exist before the ITSM has seen anything.
    assert db.run(lambda s: s.query(Ticket).count()) == 8

    itsm = FakeItsm()
    itsm.fail_first = 3  # HTTP 500 for the first three requests
    itsm.hang_on = {6}  # the sixth request: accepted, then the worker dies
    await itsm.start()
    worker = Worker(worker_env(tmp_path, db.url, itsm), tmp_path / "worker.log")
    try:
        worker.start()
        await asyncio.wait_for(itsm.hanging.wait(), 60)
        worker.kill(signal.SIGKILL)
        in_flight = itsm.received[5]
        delivered = db.run(
            lambda s: s.execute(
                select(OutboxMessage.delivered_at).where(OutboxMessage.idempotency_key == in_flight)
            ).scalar_one()
        )
        assert delivered is None, "the killed worker cannot have recorded the delivery"

        # The ITSM goes down; a new worker keeps trying until it is back.
        await itsm.stop()
        worker.start()
        await wait_until(
            lambda: "Cannot connect" in worker.output(),
            30,
            "a delivery attempt while the ITSM is down",
        )
        await itsm.start()
        await wait_until(lambda: pending(db) == 0, 60, "all outbox rows delivered")
    finally:
        worker.kill(signal.SIGTERM)
        await itsm.stop()

    counts = collections.Counter(itsm.received)
    assert set(itsm.accepted) == set(keys) and len(itsm.accepted) == 8
    assert counts[in_flight] >= 2, "the in-flight ticket was re-sent with the same key"
    assert {body["id"] for body in itsm.accepted.values()} == {f"RAK-{1001 + n}" for n in range(8)}
    audits = db.run(
        lambda s: (
            s.execute(select(TicketAudit.ticket_id).where(TicketAudit.action == "delivered"))
            .scalars()
            .all()
        )
    )
    assert sorted(audits) == list(range(1, 9)), "each delivery recorded exactly once"
    output = worker.output()
    assert "HTTP 500" in output and "retry in" in output
    db.dispose()


@pytest.mark.postgres
async def test_two_workers_share_the_outbox_on_postgres(tmp_path, postgres_url):
    db = Database(postgres_url)
    migrate.upgrade(db)
    keys = make_tickets(db, 40)
    itsm = FakeItsm()
    itsm.delay = 0.05
    await itsm.start()
    workers = [
        Worker(worker_env(tmp_path, postgres_url, itsm), tmp_path / f"w{n}.log") for n in range(2)
    ]
    try:
        for worker in workers:
            worker.start()
        await wait_until(lambda: pending(db) == 0, 90, "all outbox rows delivered")
    finally:
        for worker in workers:
            worker.kill(signal.SIGTERM)
        await itsm.stop()
    # SKIP LOCKED claims: no row was sent twice, and both workers did part of the work.
    assert sorted(itsm.received) == sorted(keys)
    for worker in workers:
        assert "delivered" in worker.output(), worker.output()[-2000:]
    db.dispose()

"""Background worker: delivers tickets to the ITSM system, messages to Teams users, and
runs retention.

Started as `python -m bot.cli run worker` (Procfile). Delivery is at-least-once
from this side (a retry after a crash or timeout re-sends the same row) and
exactly-once for the receiver, which drops repeats by the Idempotency-Key header.
Several workers may run against PostgreSQL (SKIP LOCKED claims); on SQLite run one.

Messages to requesters (bot/user_messages.py) go out through the Bot Connector with
the user's stored conversation reference, leased like tickets. The Bot Connector
drops no repeats, so a worker killed after Microsoft accepted a message and before
Rakel recorded it sends that one message again; a recorded delivery is never repeated.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time

import aiohttp

from bot import user_messages
from bot.channels.teams_auth import HTTP_TIMEOUT, AppTokenProvider, AuthError
from bot.channels.teams_references import NoReferenceError, message_user
from bot.db import Database
from bot.retention import run_retention
from bot.settings import Settings, SettingsError, TeamsSettings, load_teams_settings
from bot.tickets.outbox import (
    USER_MESSAGES,
    Claim,
    backoff_seconds,
    claim_due,
    mark_delivered,
    mark_failed,
)

log = logging.getLogger("bot.worker")

BATCH = 10


class DeliveryError(Exception):
    """The ITSM system did not accept the ticket (yet): retry later."""


async def post_ticket(http: aiohttp.ClientSession, settings: Settings, claim: Claim) -> None:
    headers = {"Content-Type": "application/json", "Idempotency-Key": claim.idempotency_key}
    if settings.itsm_token:
        headers["Authorization"] = f"Bearer {settings.itsm_token}"
    assert settings.itsm_url is not None
    try:
        async with http.post(
            settings.itsm_url, data=claim.payload.encode("utf-8"), headers=headers
        ) as response:
            if 200 <= response.status < 300:
                return
            body = (await response.text())[:200]
            raise DeliveryError(f"HTTP {response.status}: {body}")
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


async def deliver_due(database: Database, http: aiohttp.ClientSession, settings: Settings) -> int:
    """Deliver up to BATCH due messages; the number handled (delivered or failed).

    One row is claimed at a time, so a lease only has to cover one request and
    other workers can take the next rows meanwhile.
    """
    handled = 0
    while handled < BATCH:
        claims = await database.run_async(
            lambda s: claim_due(s, lease_seconds=settings.outbox_lease_seconds, limit=1)
        )
        if not claims:
            break
        await deliver_one(database, http, settings, claims[0])
        handled += 1
    return handled


async def deliver_one(
    database: Database, http: aiohttp.ClientSession, settings: Settings, claim: Claim
) -> None:
    try:
        await post_ticket(http, settings, claim)
    except DeliveryError as exc:
        delay = backoff_seconds(
            claim.attempts, settings.itsm_retry_base_seconds, settings.itsm_retry_max_seconds
        )
        error = str(exc)
        log.warning(
            "outbox %s (attempt %d) not delivered, retry in %.1fs: %s",
            claim.idempotency_key,
            claim.attempts,
            delay,
            error,
        )
        await database.run_async(lambda s: mark_failed(s, claim, error, delay))
    else:
        await database.run_async(lambda s: mark_delivered(s, claim))
        log.info("outbox %s delivered (attempt %d)", claim.idempotency_key, claim.attempts)


async def deliver_messages(
    database: Database,
    http: aiohttp.ClientSession,
    settings: Settings,
    teams: TeamsSettings,
    tokens: AppTokenProvider,
) -> int:
    """Send up to BATCH due Teams messages, one claim at a time (as deliver_due)."""
    handled = 0
    while handled < BATCH:
        claims = await database.run_async(
            lambda s: user_messages.claim_for_teams(s, lease_seconds=settings.outbox_lease_seconds)
        )
        if not claims:
            break
        await send_one(database, http, settings, teams, tokens, *claims[0])
        handled += 1
    return handled


async def send_one(
    database: Database,
    http: aiohttp.ClientSession,
    settings: Settings,
    teams: TeamsSettings,
    tokens: AppTokenProvider,
    claim: Claim,
    recipient: str,
) -> None:
    try:
        await message_user(database, teams, recipient, claim.payload, http=http, tokens=tokens)
    except (NoReferenceError, AuthError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
        delay = backoff_seconds(
            claim.attempts, settings.itsm_retry_base_seconds, settings.itsm_retry_max_seconds
        )
        error = f"{type(exc).__name__}: {exc}"
        log.warning(
            "message %s (attempt %d) not sent, retry in %.1fs: %s",
            claim.idempotency_key,
            claim.attempts,
            delay,
            error,
        )
        await database.run_async(
            lambda s: mark_failed(s, claim, error, delay, outbox=USER_MESSAGES)
        )
    else:
        await database.run_async(lambda s: mark_delivered(s, claim, outbox=USER_MESSAGES))
        log.info("message %s sent (attempt %d)", claim.idempotency_key, claim.attempts)


def check(settings: Settings, teams: TeamsSettings | None = None) -> None:
    if settings.outbox_lease_seconds <= settings.itsm_timeout_seconds:
        raise SettingsError(
            "RAKEL_OUTBOX_LEASE_SECONDS must be longer than RAKEL_ITSM_TIMEOUT_SECONDS, "
            "or a slow delivery could be claimed again by another worker"
        )
    bot_connector_timeout = HTTP_TIMEOUT.total or 0.0
    if (
        teams is not None
        and teams.configured
        and settings.outbox_lease_seconds <= bot_connector_timeout
    ):
        raise SettingsError(
            "RAKEL_OUTBOX_LEASE_SECONDS must be longer than the Bot Connector timeout "
            f"({bot_connector_timeout:.0f} s) when Teams is configured, or a slow message "
            "could be claimed again by another worker"
        )


async def run_worker(
    settings: Settings, stop: asyncio.Event, teams: TeamsSettings | None = None
) -> None:
    teams = teams or load_teams_settings()
    check(settings, teams)
    database = Database(settings.db_url)
    tokens = AppTokenProvider(teams)
    timeout = aiohttp.ClientTimeout(
        total=settings.itsm_timeout_seconds, connect=min(5.0, settings.itsm_timeout_seconds)
    )
    next_retention = 0.0
    log.info(
        "worker started: ITSM %s, Teams messages %s, retention every %.0fs",
        settings.itsm_url or "not configured",
        "on" if teams.configured else "off (Teams not configured)",
        settings.retention_interval_seconds,
    )
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while not stop.is_set():
                handled = 0
                try:
                    if settings.itsm_url:
                        handled = await deliver_due(database, http, settings)
                    if teams.configured:
                        handled += await deliver_messages(database, http, settings, teams, tokens)
                    if time.monotonic() >= next_retention:
                        await asyncio.to_thread(run_retention, settings, database)
                        next_retention = time.monotonic() + settings.retention_interval_seconds
                except Exception:  # noqa: BLE001 - e.g. database briefly down: keep going
                    log.exception("worker cycle failed; retrying")
                if handled < BATCH:  # a full batch means more may be due right away
                    try:
                        await asyncio.wait_for(stop.wait(), settings.worker_poll_seconds)
                    except asyncio.TimeoutError:
                        pass
    finally:
        database.dispose()
        log.info("worker stopped")


def serve(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop)

    asyncio.run(main())

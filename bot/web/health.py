"""GET /health: is every part of Rakel up? GET /health?ready: can this process serve?

`/health` is the operators' overview: Rasa, the action server and the database, 200
when all are ok, 503 otherwise. `/health?ready` asks only what this web process needs
to serve its pages and API: the database reachable and migrated to the schema the
code expects (503 with the reason until then). A load balancer or a process harness
waits on it; it does not wait for Rasa, which the pages do not need.

Both answer anyone who can reach the web service, so neither names an internal
address: the details with URLs go to the log.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiohttp import web

from bot import migrate
from bot.db import Database
from bot.web.keys import DATABASE, HTTP, SETTINGS

logger = logging.getLogger(__name__)

CHECK_TIMEOUT = aiohttp.ClientTimeout(total=3)
MIGRATE_HINT = "run `python -m bot.cli migrate`"


async def _http_ok(session: aiohttp.ClientSession, name: str, url: str) -> dict[str, str]:
    try:
        async with session.get(url, timeout=CHECK_TIMEOUT) as response:
            if response.status == 200:
                return {"status": "ok"}
            logger.warning("Health check: %s answered HTTP %s at %s", name, response.status, url)
            return {"status": "error", "detail": f"HTTP {response.status}"}
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        logger.warning("Health check: %s unreachable at %s: %r", name, url, exc)
        return {"status": "error", "detail": f"unreachable ({type(exc).__name__})"}


def database_problem(database: Database) -> str | None:
    """Why the database cannot serve this code yet, or None when it can."""
    try:
        current = migrate.database_heads(database)
    except Exception as exc:  # noqa: BLE001 - any database fault means not ready
        logger.warning("Health check: database unreachable: %r", exc)
        return f"database unreachable ({type(exc).__name__})"
    expected = migrate.code_heads()
    if current != expected:
        return (
            f"database schema not migrated: at {', '.join(sorted(current)) or 'no revision'}, "
            f"the code expects {', '.join(sorted(expected))}; {MIGRATE_HINT}"
        )
    return None


async def _database_check(request: web.Request) -> dict[str, str]:
    problem = await asyncio.to_thread(database_problem, request.app[DATABASE])
    return {"status": "ok"} if problem is None else {"status": "error", "detail": problem}


async def ready(request: web.Request) -> web.Response:
    problem = await asyncio.to_thread(database_problem, request.app[DATABASE])
    if problem is None:
        return web.json_response({"status": "ready"})
    return web.json_response({"status": "not ready", "reason": problem}, status=503)


async def health(request: web.Request) -> web.Response:
    if "ready" in request.query:
        return await ready(request)
    settings = request.app[SETTINGS]
    session = request.app[HTTP]
    rasa, actions, database = await asyncio.gather(
        # Rasa's `/` needs no token, and Rasa loads its model before it listens: an
        # answer here means a loaded model.
        _http_ok(session, "Rasa", settings.rasa_url.rstrip("/") + "/"),
        _http_ok(session, "action server", settings.action_server_url.rstrip("/") + "/health"),
        _database_check(request),
    )
    checks = {"rasa": rasa, "action_server": actions, "database": database}
    healthy = all(check["status"] == "ok" for check in checks.values())
    return web.json_response(
        {"status": "ok" if healthy else "degraded", "checks": checks},
        status=200 if healthy else 503,
    )

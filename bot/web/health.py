"""GET /health: is every part of Rakel up? 200 when all are, 503 otherwise."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web

from bot.web.keys import DATABASE, HTTP, SETTINGS

CHECK_TIMEOUT = aiohttp.ClientTimeout(total=3)


async def _http_ok(session: aiohttp.ClientSession, url: str) -> dict[str, str]:
    try:
        async with session.get(url, timeout=CHECK_TIMEOUT) as response:
            if response.status == 200:
                return {"status": "ok"}
            return {"status": "error", "detail": f"HTTP {response.status} from {url}"}
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        return {"status": "error", "detail": f"{url} unreachable: {type(exc).__name__}"}


async def _database_ok(request: web.Request) -> dict[str, str]:
    try:
        await asyncio.to_thread(request.app[DATABASE].ping)
        return {"status": "ok"}
    except Exception as exc:  # noqa: BLE001 - report any database fault
        return {"status": "error", "detail": type(exc).__name__}


async def health(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    session = request.app[HTTP]
    rasa, actions, database = await asyncio.gather(
        _http_ok(session, settings.rasa_url.rstrip("/") + "/"),
        _http_ok(session, settings.action_server_url.rstrip("/") + "/health"),
        _database_ok(request),
    )
    checks = {"rasa": rasa, "action_server": actions, "database": database}
    healthy = all(check["status"] == "ok" for check in checks.values())
    return web.json_response(
        {"status": "ok" if healthy else "degraded", "checks": checks},
        status=200 if healthy else 503,
    )

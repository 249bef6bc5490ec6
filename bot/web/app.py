"""Application factory and entry point of the web service."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bot.db import Database
from bot.settings import Settings, load_settings
from bot.web import routes
from bot.web.keys import DATABASE, HTTP, SETTINGS


async def _resources(app: web.Application) -> AsyncIterator[None]:
    """Open the database and the outbound HTTP session for the app's lifetime."""
    app[DATABASE] = Database(app[SETTINGS].db_url)
    app[HTTP] = aiohttp.ClientSession()
    yield
    await app[HTTP].close()
    app[DATABASE].dispose()


def create_app(settings: Settings | None = None) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[SETTINGS] = settings or load_settings()
    app.cleanup_ctx.append(_resources)
    routes.setup(app)
    return app


def serve(settings: Settings | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = settings or load_settings()
    web.run_app(
        create_app(settings),
        host=settings.web_host,
        port=settings.web_port,
        print=lambda text: logging.getLogger("bot.web").info(text),
    )

"""URL map of the web service."""

from __future__ import annotations

from aiohttp import web

from bot.web import health, widget


def setup(app: web.Application) -> None:
    app.router.add_get("/health", health.health)
    # Intranet web widget (issue #6)
    widget.setup(app)

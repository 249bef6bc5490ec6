"""URL map of the web service."""

from __future__ import annotations

from aiohttp import web

from bot.web import health, widget


def setup(app: web.Application) -> None:
    app.router.add_get("/health", health.health)

    # Service-desk review pages, their JSON API and staff login (issue 5).
    from bot.web import review

    review.setup(app)

    # Intranet web widget (issue #6)
    widget.setup(app)

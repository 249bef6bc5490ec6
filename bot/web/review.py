"""The service-desk review pages and their API, mounted by routes.setup()."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.web import (
    account_views,
    api,
    auth_views,
    nlu_views,
    security,
    stats_views,
    ticket_views,
)
from bot.web.keys import DATABASE, SETTINGS
from bot.web.login_throttle import LoginThrottle
from bot.web.staff_accounts import bootstrap_admin
from bot.web.staff_base import STATIC, setup_templates

log = logging.getLogger(__name__)


async def _bootstrap_admin(app: web.Application) -> None:
    """Create the admin from RAKEL_ADMIN_USER / RAKEL_ADMIN_PASSWORD, if set and new."""
    try:
        settings = app[SETTINGS]
        await asyncio.to_thread(app[DATABASE].run, lambda s: bootstrap_admin(s, settings))
    except SQLAlchemyError as exc:
        # Without the staff table (migrations not run) only the admin bootstrap is
        # impossible; health and channels still serve. Asked for an admin: fail loudly.
        if app[SETTINGS].admin_user:
            raise RuntimeError(
                "cannot create the admin account: run `python -m bot.cli migrate` first"
            ) from exc
        log.error(
            "staff accounts unavailable (%s): run `python -m bot.cli migrate`", type(exc).__name__
        )


async def _staff_root(request: web.Request) -> web.Response:
    raise web.HTTPFound("/staff/")


def setup(app: web.Application) -> None:
    setup_templates(app)
    app.middlewares.extend(security.middlewares(app[SETTINGS]))
    app[auth_views.THROTTLE] = LoginThrottle()
    app[stats_views.TRACKER] = {}
    app.on_startup.append(_bootstrap_admin)
    app.on_cleanup.append(stats_views.close_tracker)

    r = app.router
    r.add_get("/login", auth_views.login_form)
    r.add_post("/login", auth_views.login)
    r.add_post("/logout", auth_views.logout)
    r.add_get("/staff", _staff_root)
    r.add_get("/staff/", ticket_views.queue)
    r.add_get("/staff/tickets/{public_id}", ticket_views.ticket_page)
    r.add_post("/staff/tickets/{public_id}", ticket_views.ticket_update)
    r.add_get("/staff/misses", nlu_views.misses)
    r.add_post("/staff/misses/{miss_id:\\d+}", nlu_views.mark)
    r.add_get("/staff/misses/export.yml", nlu_views.export)
    r.add_get("/staff/stats", stats_views.statistics)
    r.add_get("/staff/accounts", account_views.accounts)
    r.add_post("/staff/accounts", account_views.create)
    r.add_post("/staff/accounts/{user_id:\\d+}", account_views.change)
    r.add_static("/static/staff", STATIC)
    r.add_get("/api/openapi.json", api.openapi)
    r.add_get("/api/tickets", api.list_tickets)
    r.add_get("/api/tickets/{public_id}", api.get_ticket)
    r.add_patch("/api/tickets/{public_id}", api.patch_ticket)
    r.add_post("/api/tickets/{public_id}/notes", api.add_note)

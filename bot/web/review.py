"""What the service-desk pages and their API need besides routes (those are in
bot/web/routes.py): templates, the security middlewares, the login throttle, the
statistics tracker connection and the admin account."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.web import auth_views, security, stats_views
from bot.web.keys import DATABASE, SETTINGS
from bot.web.login_throttle import LoginThrottle
from bot.web.staff_accounts import bootstrap_admin
from bot.web.staff_base import setup_templates

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


async def _staff_lifetime(app: web.Application) -> AsyncIterator[None]:
    """The admin account at startup; the statistics tracker connection closed at cleanup.

    A cleanup context, not on_startup/on_cleanup: aiohttp 3.9 declares its signals in a
    form aiosignal 1.4 reads as a list of callbacks taking a callback, so no handler
    type-checks there. Appended after the app's own resources (bot/web/app.py), it runs
    once the database is open and ends before it is closed.
    """
    await _bootstrap_admin(app)
    yield
    await stats_views.close_tracker(app)


def setup(app: web.Application) -> None:
    setup_templates(app)
    app.middlewares.extend(security.middlewares(app[SETTINGS]))
    app[auth_views.THROTTLE] = LoginThrottle()
    app[stats_views.TRACKER] = {}
    app.cleanup_ctx.append(_staff_lifetime)

"""Staff account management pages (/staff/accounts): admins only."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.web.keys import DATABASE
from bot.web.staff_accounts import AccountError, create_staff, list_staff, set_active
from bot.web.staff_base import STAFF, admin_required, render_page

log = logging.getLogger(__name__)


async def _page(request: web.Request, error: str | None = None, status: int = 200) -> web.Response:
    users = await request.app[DATABASE].run_async(list_staff)
    return await render_page(
        request,
        "accounts.html",
        {
            "users": users,
            "error": error,
            "saved": request.query.get("lagret"),
            "active": "accounts",
        },
        status=status,
    )


@admin_required
async def accounts(request: web.Request) -> web.Response:
    return await _page(request)


@admin_required
async def create(request: web.Request) -> web.Response:
    form = await request.post()
    username = str(form.get("username", ""))
    password = str(form.get("password", ""))
    is_admin = form.get("is_admin") == "1"
    try:
        await request.app[DATABASE].run_async(
            lambda s: create_staff(s, username, password, is_admin=is_admin)
        )
    except AccountError as exc:
        log.info("account not created: %s", exc)
        return await _page(request, exc.code, 400)
    log.info("staff %r created account %r", request[STAFF].username, username)
    raise web.HTTPSeeOther("/staff/accounts?lagret=1")


@admin_required
async def change(request: web.Request) -> web.Response:
    user_id = int(request.match_info["user_id"])
    form = await request.post()
    active = form.get("active") == "1"
    try:
        await request.app[DATABASE].run_async(
            lambda s: set_active(s, user_id, active, by=request[STAFF].id)
        )
    except AccountError as exc:
        return await _page(request, exc.code, 400)
    log.info("staff %r set account %d active=%s", request[STAFF].username, user_id, active)
    raise web.HTTPSeeOther("/staff/accounts?lagret=1")

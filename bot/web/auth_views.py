"""GET/POST /login and POST /logout for service-desk staff."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp_session import get_session, new_session

from bot.web.keys import DATABASE
from bot.web.security import LoginThrottle
from bot.web.staff_accounts import authenticate, normalise_username
from bot.web.staff_base import csrf_token, current_staff, render_page

log = logging.getLogger(__name__)

THROTTLE = web.AppKey("login_throttle", LoginThrottle)
DEFAULT_NEXT = "/staff/"


def safe_next(value: str | None) -> str:
    """Only same-site paths: never an open redirect to another host."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(c) < 32 for c in value)
    ):
        return DEFAULT_NEXT
    return value


async def login_form(request: web.Request) -> web.Response:
    next_url = safe_next(request.query.get("next"))
    if await current_staff(request) is not None:
        raise web.HTTPFound(next_url)
    return await render_page(
        request, "login.html", {"next": next_url, "error": None, "username": ""}
    )


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    username = normalise_username(str(form.get("username", "")))
    password = str(form.get("password", ""))
    next_url = safe_next(str(form.get("next", "")))
    ip = request.remote or "unknown"
    throttle = request.app[THROTTLE]

    def again(error: str, status: int) -> web.Response:
        return render_page(
            request,
            "login.html",  # type: ignore[return-value]
            {"next": next_url, "error": error, "username": username},
            status=status,
        )

    if not username or not password:
        return await again("missing", 400)
    if throttle.blocked(username, ip):
        log.warning("login throttled for %r from %s", username, ip)
        return await again("throttled", 429)
    user = await request.app[DATABASE].run_async(lambda s: authenticate(s, username, password))
    if user is None:
        throttle.failed(username, ip)
        log.info("failed login for %r from %s", username, ip)
        return await again("wrong", 401)
    throttle.succeeded(username, ip)
    # A fresh session on login: a session id planted before login is worthless.
    session = await new_session(request)
    session["uid"] = user.id
    session["user"] = user.username
    await csrf_token(request)
    log.info("staff %r logged in", user.username)
    raise web.HTTPSeeOther(next_url)


async def logout(request: web.Request) -> web.Response:
    session = await get_session(request)
    session.invalidate()
    raise web.HTTPSeeOther("/login")

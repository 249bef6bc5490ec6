"""GET/POST /login and POST /logout for service-desk staff."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp_session import get_session, new_session
from sqlalchemy.orm import Session

from bot.web.keys import DATABASE, SETTINGS
from bot.web.login_throttle import LoginThrottle, client_address
from bot.web.staff_accounts import authenticate, end_sessions, normalise_username
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
    ip = client_address(request, request.app[SETTINGS].trusted_proxies)
    throttle = request.app[THROTTLE]
    database = request.app[DATABASE]

    async def again(error: str, status: int, retry_after: int = 0) -> web.Response:
        response = await render_page(
            request,
            "login.html",
            {"next": next_url, "error": error, "username": username, "retry_after": retry_after},
            status=status,
        )
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return response

    if not username or not password:
        return await again("missing", 400)
    wait = await database.run_async(lambda s: throttle.retry_after(s, username, ip))
    if wait:
        log.warning("login throttled for %r from %s (%d s)", username, ip, wait)
        return await again("throttled", 429, wait)

    def check(session: Session) -> tuple[int, str, int] | None:
        user = authenticate(session, username, password)
        if user is None:
            throttle.failed(session, username, ip)
            return None
        throttle.succeeded(session, username, ip)
        return user.id, user.username, user.session_version

    found = await database.run_async(check)
    if found is None:
        log.info("failed login for %r from %s", username, ip)
        return await again("wrong", 401)
    user_id, name, version = found
    # A fresh session on login: a session id planted before login is worthless.
    session = await new_session(request)
    session["uid"] = user_id
    session["user"] = name
    session["sv"] = version
    await csrf_token(request)
    log.info("staff %r logged in from %s", name, ip)
    raise web.HTTPSeeOther(next_url)


async def logout(request: web.Request) -> web.Response:
    """Ends every session of this account, not only this cookie's.

    A copy of the cookie (saved by someone else, or left in another browser) would
    otherwise stay valid until it expires.
    """
    session = await get_session(request)
    user_id = session.get("uid")
    if isinstance(user_id, int):
        await request.app[DATABASE].run_async(lambda s: end_sessions(s, user_id))
        log.info("staff %r logged out", session.get("user"))
    session.invalidate()
    raise web.HTTPSeeOther("/login")

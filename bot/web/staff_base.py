"""What every staff page shares: keys, labels, the login check, rendering."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
import jinja2
import yaml
from aiohttp import web
from aiohttp_session import SESSION_KEY, get_session

from bot.content.catalogue import catalogue
from bot.web.keys import DATABASE

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES = WEB_DIR / "templates"
STATIC = WEB_DIR / "static"

JINJA = web.AppKey("staff_jinja", jinja2.Environment)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class StaffIdentity:
    id: int
    username: str
    is_admin: bool


# The request key of the logged-in StaffIdentity: a typed web.RequestKey, as aiohttp
# 3.14 (the web environment's) asks for; a plain string where aiohttp predates it
# (Rasa's 3.9.5, which only ever imports this module, never serves it).
STAFF: Any = (
    web.RequestKey("rakel_staff", StaffIdentity) if hasattr(web, "RequestKey") else "rakel_staff"
)


@functools.lru_cache(maxsize=1)
def labels() -> dict[str, dict[str, str]]:
    with open(WEB_DIR / "labels.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def label(group: str, code: str | None) -> str:
    if code is None:
        return "–"
    if group == "topic":  # topics are declared once, in the content catalogue
        return catalogue().topic_labels().get(code, code)
    return labels().get(group, {}).get(code, code)


async def csrf_token(request: web.Request) -> str:
    """The session's CSRF token, created on first use."""
    session = await get_session(request)
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def render(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    # Pages rendered outside a handler (the error page) reuse an already loaded session.
    session = request.get(SESSION_KEY)
    csrf = session.get("csrf", "") if session is not None else ""
    context = {"staff": request.get(STAFF), "active": None, "csrf": csrf, **context}
    return aiohttp_jinja2.render_template(template, request, context, status=status, app_key=JINJA)


async def render_page(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    """A page with a form: includes the CSRF token."""
    return render(request, template, {"csrf": await csrf_token(request), **context}, status=status)


async def current_staff(request: web.Request) -> StaffIdentity | None:
    from bot.web.staff_accounts import active_user

    session = await get_session(request)
    user_id = session.get("uid")
    if not isinstance(user_id, int):
        return None
    version = session.get("sv")
    user = await request.app[DATABASE].run_async(lambda s: active_user(s, user_id, version))
    if user is None:  # logged out, deactivated or deleted since this cookie was issued
        session.invalidate()
        return None
    return StaffIdentity(id=user.id, username=user.username, is_admin=user.is_admin)


def login_required(handler: Handler) -> Handler:
    """Pages: no session -> /login?next=<this page>."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        staff = await current_staff(request)
        if staff is None:
            raise web.HTTPFound("/login?next=" + quote(request.path_qs, safe=""))
        request[STAFF] = staff
        return await handler(request)

    return wrapper


def admin_required(handler: Handler) -> Handler:
    """Pages only admins may use (account management): others get 403."""

    @login_required
    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        if not request[STAFF].is_admin:
            return render(
                request, "error.html", {"status": 403, "message_key": "admin_only"}, status=403
            )
        return await handler(request)

    return wrapper


def api_login_required(handler: Handler) -> Handler:
    """The JSON API: no session -> 401 JSON."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        staff = await current_staff(request)
        if staff is None:
            return web.json_response(
                {"error": "unauthorized", "detail": "log in at /login first"},
                status=401,
                headers={"WWW-Authenticate": 'Cookie realm="rakel-staff"'},
            )
        request[STAFF] = staff
        return await handler(request)

    return wrapper


def setup_templates(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        app_key=JINJA,
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    env.globals.update(labels=labels(), label=label)
    env.filters["when"] = _format_when


def _format_when(value: Any) -> str:
    """Norwegian local time for display: 27.11.2026 kl. 09:05."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    if not isinstance(value, datetime):
        return "–"
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(ZoneInfo("Europe/Oslo")).strftime("%d.%m.%Y kl. %H:%M")

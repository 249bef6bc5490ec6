"""POST /widget/messages and /widget/messages/seen: what Rakel owes a widget user.

A widget user has no conversation reference Rakel could write to, so the messages
about their tickets (bot/user_messages.py) wait until they open the widget. The
widget sends its identity token (POST /widget/token) as a form field: a simple
cross-origin request (no preflight), and the token stays out of URLs and access logs.
Without a valid token there is nobody to show messages to: 401. A message counts as
delivered only when the widget says it showed it (/seen), so a lost response loses
nothing.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot import user_messages
from bot.channels import widget_token
from bot.identity import INTRANET, namespaced
from bot.settings import widget_origins
from bot.tickets.labels import local_time
from bot.web.keys import DATABASE, SETTINGS

MAX_IDS = 100


def _headers(request: web.Request) -> dict[str, str]:
    headers = {"Cache-Control": "no-store", "Vary": "Origin"}
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") in widget_origins(request.app[SETTINGS]):
        headers["Access-Control-Allow-Origin"] = origin
    return headers


def _error(request: web.Request, status: int, detail: str) -> web.Response:
    return web.json_response({"error": detail}, status=status, headers=_headers(request))


async def _recipient(request: web.Request) -> tuple[str | None, Any]:
    form = await request.post()
    token = form.get("token")
    if not isinstance(token, str) or not token:
        return None, form
    settings = request.app[SETTINGS]
    try:
        found = widget_token.identity(
            settings.secret("widget_key"), token, settings.widget_token_max_lifetime_seconds
        )
    except widget_token.InvalidWidgetToken:
        return None, form
    return namespaced(INTRANET, found["id"]), form


async def pending(request: web.Request) -> web.Response:
    recipient, _ = await _recipient(request)
    if recipient is None:
        return _error(request, 401, "form field 'token' must be a valid widget identity token")
    found = await request.app[DATABASE].run_async(
        lambda s: user_messages.pending_for_widget(s, recipient)
    )
    body = [{"id": m.id, "text": m.text, "at": local_time(m.created_at)} for m in found]
    return web.json_response({"messages": body}, headers=_headers(request))


async def seen(request: web.Request) -> web.Response:
    recipient, form = await _recipient(request)
    if recipient is None:
        return _error(request, 401, "form field 'token' must be a valid widget identity token")
    raw = [part.strip() for part in str(form.get("ids", "")).split(",") if part.strip()]
    if not raw or len(raw) > MAX_IDS or not all(part.isdigit() for part in raw):
        return _error(
            request, 400, f"form field 'ids' must be 1 to {MAX_IDS} message ids, comma-separated"
        )
    ids = [int(part) for part in raw]
    recorded = await request.app[DATABASE].run_async(
        lambda s: user_messages.mark_shown(s, recipient, ids)
    )
    return web.json_response({"recorded": recorded}, headers=_headers(request))

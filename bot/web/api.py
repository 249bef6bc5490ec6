"""JSON API for tickets under /api/tickets, described in bot/web/openapi.yaml.

Authentication: the staff session cookie from /login (same accounts and rights as the
pages). CSRF-exempt because it only accepts `application/json` request bodies: a
cross-site HTML form cannot send those, a cross-site script would need CORS (never
granted here), and the SameSite=Lax cookie is not sent on cross-site requests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from sqlalchemy.orm import Session

from bot.tickets.repository import TicketError
from bot.web import ticket_changes, ticket_queries
from bot.web.keys import DATABASE
from bot.web.staff_base import STAFF, api_login_required
from bot.web.ticket_filter import TicketFilter
from bot.web.ticket_json import note_json, ticket_json

OPENAPI_FILE = Path(__file__).resolve().parent / "openapi.yaml"


def _error(status: int, error: str, detail: str, field: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": error, "detail": detail}
    if field:
        body["field"] = field
    return web.json_response(body, status=status)


def _refused(exc: TicketError) -> web.Response:
    return _error(400, "invalid_parameter", exc.message, exc.field)


async def _json_body(request: web.Request) -> dict[str, Any] | web.Response:
    if request.content_type != "application/json":
        return _error(415, "unsupported_media_type", "send Content-Type: application/json")
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return _error(400, "invalid_json", "the request body is not valid JSON")
    if not isinstance(body, dict):
        return _error(400, "invalid_json", "the request body must be a JSON object")
    return body


@api_login_required
async def list_tickets(request: web.Request) -> web.Response:
    try:
        f = TicketFilter.from_query(request.query, strict=True)
    except TicketError as exc:
        return _refused(exc)

    def load(session: Session) -> dict[str, Any]:
        page = ticket_queries.list_tickets(session, f)
        return {
            "items": [ticket_json(t) for t in page.tickets],
            "total": page.total,
            "page": page.page,
            "pages": page.pages,
            "per_page": f.per_page,
            "counts": ticket_queries.status_counts(session, f),
        }

    return web.json_response(await request.app[DATABASE].run_async(load))


def _detail(session: Session, public_id: str) -> dict[str, Any] | None:
    ticket = ticket_queries.get_ticket(session, public_id)
    if ticket is None:
        return None
    return ticket_json(ticket, *ticket_queries.history(session, ticket))


def _not_found(public_id: str) -> web.Response:
    return _error(404, "not_found", f"no ticket {public_id}")


@api_login_required
async def get_ticket(request: web.Request) -> web.Response:
    public_id = request.match_info["public_id"]
    data = await request.app[DATABASE].run_async(lambda s: _detail(s, public_id))
    return web.json_response(data) if data is not None else _not_found(public_id)


@api_login_required
async def patch_ticket(request: web.Request) -> web.Response:
    public_id = request.match_info["public_id"]
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    if not body:
        return _error(400, "invalid_parameter", "nothing to change")
    actor = request[STAFF].username

    def work(session: Session) -> dict[str, Any] | None:
        ticket = ticket_queries.get_ticket(session, public_id)
        if ticket is None:
            return None
        changes = {name: value for name, value in body.items() if name != "message"}
        ticket_changes.update_ticket(session, ticket, actor, changes, message=body.get("message"))
        return _detail(session, public_id)

    try:
        data = await request.app[DATABASE].run_async(work)
    except TicketError as exc:
        return _refused(exc)
    return web.json_response(data) if data is not None else _not_found(public_id)


@api_login_required
async def add_note(request: web.Request) -> web.Response:
    public_id = request.match_info["public_id"]
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    text = body.get("text")
    if not isinstance(text, str):
        return _error(400, "invalid_parameter", "text must be a string", "text")
    actor = request[STAFF].username

    def work(session: Session) -> dict[str, Any] | None:
        ticket = ticket_queries.get_ticket(session, public_id)
        if ticket is None:
            return None
        return note_json(ticket_changes.add_note(session, ticket, actor, text))

    try:
        data = await request.app[DATABASE].run_async(work)
    except TicketError as exc:
        return _refused(exc)
    if data is None:
        return _not_found(public_id)
    return web.json_response(data, status=201)


def load_openapi() -> dict[str, Any]:
    with open(OPENAPI_FILE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


async def openapi(request: web.Request) -> web.Response:
    """The API description; public, like any API documentation (it holds no data)."""
    return web.Response(
        text=json.dumps(load_openapi(), ensure_ascii=False), content_type="application/json"
    )

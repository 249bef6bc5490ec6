"""JSON API for outage notices under /api/notices, described in bot/web/openapi.yaml.

Same authentication and CSRF reasoning as the tickets' API (bot/web/api.py): the staff
session cookie, JSON bodies only. Monitoring or the ITSM system posts a notice with a
staff account of its own; publishing (status "aktiv") needs an admin account.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from bot import notices
from bot.content.catalogue import catalogue
from bot.models import NOTICE_STATUSES, Notice
from bot.notices import NoticeError
from bot.tickets.repository import public_id_for
from bot.web import notice_changes
from bot.web.api import _error, _json_body
from bot.web.keys import DATABASE
from bot.web.notice_changes import NoticeForbidden
from bot.web.staff_base import STAFF, api_login_required


def notice_json(session: Session, notice: Notice) -> dict[str, Any]:
    def when(value: Any) -> str | None:
        return notices.as_utc(value).isoformat() if value is not None else None

    service = catalogue().notice_services.get(notice.service)
    return {
        "id": notice.id,
        "title": notice.title,
        "text": notice.text,
        "service": notice.service,
        "service_label": service.label if service else notice.service,
        "system_name": notice.system_name,
        "municipalities": notices.municipalities_of(notice),
        "starts_at": when(notice.starts_at),
        "expected_end_at": when(notice.expected_end_at),
        "status": notice.status,
        "overdue": notices.is_overdue(notice),
        "created_by": notice.created_by,
        "created_at": when(notice.created_at),
        "updated_at": when(notice.updated_at),
        "resolved_at": when(notice.resolved_at),
        "tickets": [public_id_for(i) for i in notices.linked_ticket_ids(session, notice)],
    }


def _refused(exc: NoticeError) -> web.Response:
    return _error(400, "invalid_parameter", exc.message, exc.field)


def _forbidden(exc: NoticeForbidden) -> web.Response:
    return _error(403, "forbidden", str(exc))


def _not_found(notice_id: int) -> web.Response:
    return _error(404, "not_found", f"no notice {notice_id}")


@api_login_required
async def list_notices(request: web.Request) -> web.Response:
    status = request.query.get("status")
    if status is not None and status not in NOTICE_STATUSES:
        return _error(
            400, "invalid_parameter", f"must be one of {', '.join(NOTICE_STATUSES)}", "status"
        )

    def load(session: Session) -> dict[str, Any]:
        found = [n for n in notices.all_notices(session) if status is None or n.status == status]
        return {"items": [notice_json(session, n) for n in found], "total": len(found)}

    return web.json_response(await request.app[DATABASE].run_async(load))


@api_login_required
async def get_notice(request: web.Request) -> web.Response:
    notice_id = int(request.match_info["notice_id"])

    def load(session: Session) -> dict[str, Any] | None:
        notice = notices.get_notice(session, notice_id)
        return notice_json(session, notice) if notice is not None else None

    data = await request.app[DATABASE].run_async(load)
    return web.json_response(data) if data is not None else _not_found(notice_id)


@api_login_required
async def create_notice(request: web.Request) -> web.Response:
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    staff = request[STAFF]

    def work(session: Session) -> dict[str, Any]:
        return notice_json(session, notice_changes.create(session, staff, body))

    try:
        data = await request.app[DATABASE].run_async(work)
    except NoticeError as exc:
        return _refused(exc)
    except NoticeForbidden as exc:
        return _forbidden(exc)
    return web.json_response(data, status=201, headers={"Location": f"/api/notices/{data['id']}"})


@api_login_required
async def patch_notice(request: web.Request) -> web.Response:
    notice_id = int(request.match_info["notice_id"])
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    if not body:
        return _error(400, "invalid_parameter", "nothing to change")
    staff = request[STAFF]

    def work(session: Session) -> dict[str, Any] | None:
        notice = notices.get_notice(session, notice_id)
        if notice is None:
            return None
        return notice_json(session, notice_changes.update(session, staff, notice, body))

    try:
        data = await request.app[DATABASE].run_async(work)
    except NoticeError as exc:
        return _refused(exc)
    except NoticeForbidden as exc:
        return _forbidden(exc)
    return web.json_response(data) if data is not None else _not_found(notice_id)

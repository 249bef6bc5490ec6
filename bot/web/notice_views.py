"""The staff page "Driftsmeldinger": list, create, edit and resolve outage notices."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from bot import notices
from bot.content.catalogue import catalogue
from bot.models import NOTICE_STATUSES, Notice, NoticeAudit
from bot.notices import NoticeError
from bot.tickets.repository import public_id_for
from bot.web import notice_changes
from bot.web.keys import DATABASE
from bot.web.notice_changes import NoticeForbidden
from bot.web.staff_base import STAFF, login_required, render, render_page


def _common() -> dict[str, Any]:
    content = catalogue()
    return {
        "services": content.notice_services,
        "municipalities": list(content.municipalities),
        "statuses": NOTICE_STATUSES,
        "overdue": notices.is_overdue,
        "places": notices.municipalities_of,
        "local_input": notice_changes.local_input,
        "active": "notices",
    }


def _forbidden(request: web.Request) -> web.Response:
    return render(
        request, "error.html", {"status": 403, "message_key": "notice_admin_only"}, status=403
    )


@login_required
async def notice_list(request: web.Request) -> web.Response:
    return await _render_list(request)


async def _render_list(
    request: web.Request,
    *,
    error: NoticeError | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    items = await request.app[DATABASE].run_async(notices.all_notices)
    return await render_page(
        request,
        "notices.html",
        {**_common(), "notices": items, "error": error, "form": form or {}},
        status=status,
    )


@login_required
async def notice_create(request: web.Request) -> web.Response:
    form = await request.post()
    staff = request[STAFF]
    try:
        values = notice_changes.from_form(form)
        notice = await request.app[DATABASE].run_async(
            lambda s: notice_changes.create(s, staff, values)
        )
    except NoticeError as exc:
        return await _render_list(request, error=exc, form=dict(form), status=400)
    except NoticeForbidden:
        return _forbidden(request)
    # Post/redirect/get: reloading the page never repeats the change.
    raise web.HTTPSeeOther(f"/staff/notices/{notice.id}")


LoadedNotice = tuple[Notice, list[NoticeAudit], list[str]]


def _load(session: Session, notice_id: int) -> LoadedNotice | None:
    notice = notices.get_notice(session, notice_id)
    if notice is None:
        return None
    tickets = [public_id_for(i) for i in notices.linked_ticket_ids(session, notice)]
    return notice, notices.history(session, notice), tickets


async def _render_notice(
    request: web.Request, *, error: NoticeError | None = None, status: int = 200
) -> web.Response:
    notice_id = int(request.match_info["notice_id"])
    loaded = await request.app[DATABASE].run_async(lambda s: _load(s, notice_id))
    if loaded is None:
        raise web.HTTPNotFound()
    notice, audit, tickets = loaded
    return await render_page(
        request,
        "notice.html",
        {**_common(), "notice": notice, "audit": audit, "tickets": tickets, "error": error},
        status=status,
    )


@login_required
async def notice_page(request: web.Request) -> web.Response:
    return await _render_notice(request)


@login_required
async def notice_update(request: web.Request) -> web.Response:
    notice_id = int(request.match_info["notice_id"])
    form = await request.post()
    staff = request[STAFF]

    def work(session: Session) -> Notice | None:
        notice = notices.get_notice(session, notice_id)
        if notice is None:
            return None
        if form.get("only") == "tickets":
            notice_changes.resolve_linked_tickets(session, staff, notice)
            return notice
        changes = (
            {"status": str(form.get("status", ""))}
            if form.get("only") == "status"
            else notice_changes.from_form(form)
        )
        return notice_changes.update(session, staff, notice, changes)

    try:
        notice = await request.app[DATABASE].run_async(work)
    except NoticeError as exc:
        return await _render_notice(request, error=exc, status=400)
    except NoticeForbidden:
        return _forbidden(request)
    if notice is None:
        raise web.HTTPNotFound()
    raise web.HTTPSeeOther(f"/staff/notices/{notice.id}#historikk")

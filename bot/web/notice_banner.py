"""GET /widget/notices: the active outage notices the widget shows as its banner.

Public like the widget's files: the widget runs on the intranet page before anyone
logs in, and a notice is written to be read by every employee of its municipalities.
Only what users would be told anyway leaves: title, text, service and expected end,
never who wrote it or the linked tickets. `?kommune=` narrows it to the page's
municipality (the widget's data-municipality). Browsers on the widget's origins
(RAKEL_WIDGET_ORIGINS) may read it cross-origin.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot import notices
from bot.content.catalogue import catalogue
from bot.settings import widget_origins
from bot.tickets.labels import local_time
from bot.web.keys import DATABASE, SETTINGS


def _banner(notice: Any) -> dict[str, Any]:
    service = catalogue().notice_services.get(notice.service)
    end = notice.expected_end_at
    return {
        "title": notice.title,
        "text": notice.text,
        "service": service.label if service else notice.service,
        "expected_end": local_time(end) if end is not None else None,
    }


async def banner(request: web.Request) -> web.Response:
    municipality = request.query.get("kommune") or None
    known = list(catalogue().municipalities)
    if municipality is not None and municipality not in known:
        return web.json_response(
            {
                "error": "invalid_parameter",
                "field": "kommune",
                "detail": f"must be one of {', '.join(known)}",
            },
            status=400,
        )
    found = await request.app[DATABASE].run_async(
        lambda s: [_banner(n) for n in notices.active_notices(s, municipality)]
    )
    headers = {"Cache-Control": "no-store", "Vary": "Origin"}
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") in widget_origins(request.app[SETTINGS]):
        headers["Access-Control-Allow-Origin"] = origin
    return web.json_response({"notices": found}, headers=headers)

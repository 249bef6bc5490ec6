"""Pages for missed messages: list, mark with an intent, export."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from aiohttp import web

from bot.feedback import MISS_KINDS
from bot.web import nlu_review
from bot.web.keys import DATABASE
from bot.web.staff_base import STAFF, login_required, render_page


@login_required
async def misses(request: web.Request) -> web.Response:
    f = nlu_review.MissFilter.from_query(request.query)
    rows, total, pages = await request.app[DATABASE].run_async(
        lambda s: nlu_review.list_misses(s, f)
    )
    query = {
        k: v
        for k, v in {
            "kind": f.kind,
            "state": f.state,
            "uten_sak": "1" if f.without_ticket else None,
        }.items()
        if v
    }
    return await render_page(
        request,
        "misses.html",
        {
            "f": f,
            "rows": rows,
            "total": total,
            "pages": pages,
            "kinds": MISS_KINDS,
            "intents": nlu_review.intents_by_topic(),
            "query": urlencode(query),
            "saved": request.query.get("lagret"),
            "active": "misses",
        },
    )


@login_required
async def mark(request: web.Request) -> web.Response:
    miss_id = int(request.match_info["miss_id"])
    form = await request.post()
    actor = request[STAFF].username
    try:
        miss = await request.app[DATABASE].run_async(
            lambda s: nlu_review.mark(s, miss_id, str(form.get("intent", "")), actor)
        )
    except nlu_review.UnknownIntent:
        raise web.HTTPBadRequest(text="Ukjent intensjon.") from None
    if miss is None:
        raise web.HTTPNotFound()
    back = str(form.get("back", ""))
    # Only our own filter parameters go back into the URL.
    query = back if re.fullmatch(r"[a-z_]+=[a-z_0-9]+(&[a-z_]+=[a-z_0-9]+)*", back) else ""
    separator = "&" if query else ""
    raise web.HTTPSeeOther(f"/staff/misses?{query}{separator}lagret={miss_id}#miss-{miss_id}")


@login_required
async def export(request: web.Request) -> web.Response:
    body = await request.app[DATABASE].run_async(nlu_review.export_nlu)
    return web.Response(
        text=body,
        content_type="application/x-yaml",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="rakel_nlu_rettelser.yml"'},
    )

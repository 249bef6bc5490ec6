"""Pages for missed messages: list, decide (an intent, dismiss, a new draft), export."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.orm import Session

from bot import content_changes
from bot.feedback import MISS_KINDS
from bot.models import NluMiss
from bot.web import nlu_review
from bot.web.keys import DATABASE, SETTINGS
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
            "titles": nlu_review.article_titles(),
            "query": urlencode(query),
            "saved": request.query.get("lagret"),
            "active": "misses",
        },
    )


def decision_of(form: Any) -> str:
    """Which button sent the decision form (the intent's "Lagre" when none is named)."""
    decision = str(form.get("decision", "assign"))
    return decision if decision in (*content_changes.DECISIONS, "draft") else "assign"


async def decide(
    request: web.Request, form: Any, locate: Callable[[Session], NluMiss | None]
) -> str | None:
    """Apply a decision form to the missed message `locate` finds, in one transaction;
    the draft page's URL for "Nytt artikkelutkast".

    HTTPBadRequest (Norwegian text) for an unknown intent, HTTPNotFound for no message."""
    decision = decision_of(form)
    actor = request[STAFF].username
    knowledge_dir = request.app[SETTINGS].knowledge_dir
    intent = str(form.get("intent", ""))

    def work(session: Session) -> tuple[NluMiss | None, int | None]:
        miss = locate(session)
        if miss is None or decision == "draft":
            return miss, miss.id if miss else None
        decided = content_changes.decide(session, miss.id, decision, intent, actor, knowledge_dir)
        return decided, miss.id

    try:
        miss, miss_id = await request.app[DATABASE].run_async(work)
    except content_changes.ChangeError as exc:
        raise web.HTTPBadRequest(text=" ".join(exc.problems)) from None
    if miss is None:
        raise web.HTTPNotFound()
    return f"/staff/content/draft?melding={miss_id}" if decision == "draft" else None


@login_required
async def mark(request: web.Request) -> web.Response:
    miss_id = int(request.match_info["miss_id"])
    form = await request.post()
    if draft := await decide(request, form, lambda s: s.get(NluMiss, miss_id)):
        raise web.HTTPSeeOther(draft)
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

"""Staff admin page for requests from the person concerned (GDPR art. 15 and 17).

GET  /staff/personvern?identitet=X   find: what is stored about X
POST /staff/personvern/eksport       the JSON copy as a download (audited)
POST /staff/personvern/slett         delete, with a reason (audited)

Admins only: these pages read and delete any requester's data. The work itself is
bot/person_data.py, shared with `python -m bot.cli person`. Both POSTs carry the CSRF
token (checked by bot/web/security.py like every staff form).
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode

from aiohttp import web

from bot import person_data
from bot.web.keys import DATABASE, SETTINGS
from bot.web.staff_base import STAFF, admin_required, render_page

MAX_IDENTITY = 255  # the width of tickets.requester_id
MAX_REASON = 2000


def _identity(value: object) -> str:
    return str(value or "").strip()[:MAX_IDENTITY]


async def _find(request: web.Request, identity: str) -> person_data.PersonData:
    settings = request.app[SETTINGS]
    database = request.app[DATABASE]
    return await asyncio.to_thread(person_data.find, database, settings.tracker_db_url, identity)


async def _page(
    request: web.Request, identity: str, *, error: str | None = None, status: int = 200
) -> web.Response:
    found = await _find(request, identity) if identity else None
    return await render_page(
        request,
        "person.html",
        {
            "identity": identity,
            "found": found,
            "counts": found.counts() if found else {},
            "error": error,
            "deleted": request.query.get("slettet"),
            "active": "person",
        },
        status=status,
    )


@admin_required
async def person_page(request: web.Request) -> web.Response:
    return await _page(request, _identity(request.query.get("identitet")))


@admin_required
async def export(request: web.Request) -> web.Response:
    form = await request.post()
    identity = _identity(form.get("identitet"))
    if not identity:
        return await _page(request, "", error="Skriv inn en identitet.", status=400)
    found = await _find(request, identity)
    database = request.app[DATABASE]
    actor = request[STAFF].username
    await asyncio.to_thread(
        person_data.record_export, database, identity, actor=actor, counts=found.counts()
    )
    return web.Response(
        text=json.dumps(person_data.as_json(found), ensure_ascii=False, indent=2),
        content_type="application/json",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="rakel_persondata.json"'},
    )


@admin_required
async def delete(request: web.Request) -> web.Response:
    form = await request.post()
    identity = _identity(form.get("identitet"))
    reason = str(form.get("begrunnelse") or "").strip()[:MAX_REASON]
    if not identity:
        return await _page(request, "", error="Skriv inn en identitet.", status=400)
    if not reason:
        return await _page(
            request, identity, error="Skriv en begrunnelse for slettingen.", status=400
        )
    settings = request.app[SETTINGS]
    database = request.app[DATABASE]
    actor = request[STAFF].username
    force = form.get("ogsaa_aapne") == "1"
    try:
        deletion = await asyncio.to_thread(
            person_data.delete_person,
            database,
            settings.tracker_db_url,
            identity,
            actor=actor,
            reason=reason,
            force=force,
        )
    except person_data.OpenTicketsError as exc:
        return await _page(
            request,
            identity,
            error=(
                f"Personen har åpne saker: {', '.join(exc.public_ids)}. "
                "Kryss av for å slette de åpne sakene også, eller lukk dem først."
            ),
            status=409,
        )
    raise web.HTTPSeeOther("/staff/personvern?" + urlencode({"slettet": deletion.audit_id}))

"""The models page: train a new model, see it evaluated against the live one, roll back.

Every signed-in staff member sees the page; only admins may train or roll back
(issue 18). Training itself happens in the trainer process (bot/trainer.py): the
page queues a request and shows the row's stage and elapsed time, which
/staff/models/status gives as JSON for the page's script, so a reload or another
browser sees the same progress. A rollback is done here: Rasa's `PUT /model` on every
replica with the model the active one replaced (bot/model_activation.py).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aiohttp import web

from bot import model_versions
from bot.model_activation import ActivationError, activate
from bot.model_evaluation import GUARD_SPLIT, OUTCOMES, RIGHT_MAY_FALL, WRONG_MAY_RISE
from bot.model_versions import RollbackError
from bot.models import ModelVersion
from bot.web.keys import DATABASE, SETTINGS
from bot.web.staff_base import STAFF, admin_required, label, login_required, render_page


def _elapsed(row: ModelVersion) -> int | None:
    start = row.started_at or row.requested_at
    if start is None:
        return None
    end = row.finished_at or datetime.now(timezone.utc)
    if start.tzinfo is None:
        start = start.replace(tzinfo=timezone.utc)
    if end.tzinfo is None:
        end = end.replace(tzinfo=timezone.utc)
    return max(0, int((end - start).total_seconds()))


def _figures(row: ModelVersion | None) -> dict[str, Any] | None:
    return json.loads(row.figures) if row is not None and row.figures else None


def comparison(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Rows of the before/after table: the outcomes on the guard's split, then right and
    wrong per topic, then the held-out file's topic accuracy."""
    if before is None or after is None:
        return []
    old, new = before[GUARD_SPLIT], after[GUARD_SPLIT]
    rows = [
        {"label": label("reply_outcome", o), "before": old[o], "after": new[o], "key": o}
        for o in OUTCOMES
    ]
    for topic in sorted(set(old["topics"]) | set(new["topics"])):
        for outcome in ("right", "wrong"):
            rows.append(
                {
                    "label": f"{label('topic', topic)}: {label('reply_outcome', outcome).lower()}",
                    "before": old["topics"].get(topic, {}).get(outcome),
                    "after": new["topics"].get(topic, {}).get(outcome),
                    "key": outcome,
                }
            )
    rows.append(
        {
            "label": "Riktig tema, eldre testfil",
            "before": before["heldout"]["topic_accuracy"],
            "after": after["heldout"]["topic_accuracy"],
            "key": "right",
        }
    )
    return rows


def _state(session: Any) -> dict[str, Any]:
    history = model_versions.history(session)
    by_id = {row.id: row for row in history}
    active = model_versions.active_model(session)
    latest = next((r for r in history if r.source == "staff"), None)
    compared = None
    if latest is not None and latest.compared_with_id:
        compared = by_id.get(latest.compared_with_id) or session.get(
            ModelVersion, latest.compared_with_id
        )
    try:
        model_versions.rollback_target(session)
        can_roll_back = True
    except RollbackError:
        can_roll_back = False
    return {
        "active_model": active,
        "open_request": model_versions.open_request(session),
        "latest": latest,
        "compared": compared,
        "rows": comparison(_figures(compared), _figures(latest)),
        "history": [(row, _figures(row)) for row in history],
        "audit": model_versions.model_audit(session),
        "waiting_changes": model_versions.changes_not_in(session, active),
        "can_roll_back": can_roll_back,
    }


async def _render(
    request: web.Request, problem: str | None = None, status: int = 200
) -> web.Response:
    state = await request.app[DATABASE].run_async(_state)
    return await render_page(
        request,
        "models.html",
        {
            **state,
            "elapsed": _elapsed,
            "guard_split": GUARD_SPLIT,
            "right_may_fall": RIGHT_MAY_FALL,
            "wrong_may_rise": WRONG_MAY_RISE,
            "message": MESSAGES.get(request.query.get("melding", "")),
            "problem": problem,
            "active": "models",
        },
        status=status,
    )


@login_required
async def models_page(request: web.Request) -> web.Response:
    return await _render(request)


@login_required
async def training_status(request: web.Request) -> web.Response:
    """The running (or latest) training's stage and elapsed time, for the page's script."""

    def read(session: Any) -> ModelVersion | None:
        return model_versions.open_request(session) or next(
            iter(model_versions.history(session, limit=1)), None
        )

    row = await request.app[DATABASE].run_async(read)
    if row is None:
        return web.json_response({"id": None, "running": False})
    return web.json_response(
        {
            "id": row.id,
            "status": row.status,
            "status_label": label("model_status", row.status),
            "stage_label": label("model_stage", row.stage) if row.stage else None,
            "elapsed_seconds": _elapsed(row),
            "running": row.status in model_versions.OPEN,
        }
    )


MESSAGES = {
    "startet": "Treningen er bestilt. Treneren starter den straks; siden viser fremdriften.",
    "pagar": "En trening pågår allerede. Den nye modellen får med seg alt som er godkjent til nå.",
    "rullet": "Den forrige modellen er tatt i bruk igjen på alle Rasa-serverne.",
}


@admin_required
async def train(request: web.Request) -> web.Response:
    actor = request[STAFF].username

    def work(session: Any) -> bool:
        already = model_versions.open_request(session) is not None
        model_versions.request_training(session, actor)
        return already

    already = await request.app[DATABASE].run_async(work)
    raise web.HTTPSeeOther(f"/staff/models?melding={'pagar' if already else 'startet'}")


@admin_required
async def rollback(request: web.Request) -> web.Response:
    """Back to the model the active one replaced, on every replica, in one click."""
    database = request.app[DATABASE]
    actor = request[STAFF].username
    try:
        active, previous = await database.run_async(model_versions.rollback_target)
    except RollbackError as exc:
        return await _render(request, str(exc), status=409)
    try:
        await activate(request.app[SETTINGS], Path(str(previous.path)))
    except ActivationError as exc:
        return await _render(
            request,
            f"Tilbakerullingen ble ikke gjort: {exc.replica} lastet ikke modellen. "
            "Den aktive modellen svarer fortsatt.",
            status=502,
        )
    await database.run_async(
        lambda s: model_versions.made_active(
            s, previous.id, actor, action="rolled_back", old_status="rolled_back"
        )
    )
    raise web.HTTPSeeOther("/staff/models?melding=rullet")

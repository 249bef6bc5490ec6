"""The models table: requests for a training, which model is active, the history and
its audit. Shared by the trainer (bot/trainer.py, Rasa's environment) and the models
page (bot/web/model_views.py, the web environment), so both record the same way.

Statuses: queued -> training -> evaluating -> activating -> active, or held_back /
failed on the way; an active model becomes retired when another is activated, or
rolled_back when an admin goes back to the one it replaced (`compared_with_id`).
Every step is a `content_audit` row with `model_id` (who, when, what).
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import ContentAudit, ContentChange, ModelVersion, utcnow

RUNNING = ("training", "evaluating", "activating")
OPEN = ("queued", *RUNNING)


class RollbackError(RuntimeError):
    """No rollback is possible now; the message is Norwegian, for the page."""


def audit(
    session: Session, actor: str, action: str, model: ModelVersion, detail: str | None = None
) -> None:
    session.add(
        ContentAudit(
            actor=actor,
            action=action,
            model_id=model.id,
            field="model",
            old_value=model.name,
            new_value=detail,
        )
    )


def open_request(session: Session) -> ModelVersion | None:
    return session.scalar(
        select(ModelVersion).where(ModelVersion.status.in_(OPEN)).order_by(ModelVersion.id)
    )


def request_training(session: Session, actor: str) -> ModelVersion:
    """Queue a training (the page's "Tren ny modell"); an open request is reused."""
    existing = open_request(session)
    if existing is not None:
        return existing
    row = ModelVersion(
        source="staff", status="queued", requested_by=actor, stage="queued", stage_at=utcnow()
    )
    session.add(row)
    session.flush()
    audit(session, actor, "requested", row)
    return row


def active_model(session: Session) -> ModelVersion | None:
    return session.scalar(
        select(ModelVersion).where(ModelVersion.status == "active").order_by(ModelVersion.id.desc())
    )


def made_active(
    session: Session,
    model_id: int,
    actor: str,
    *,
    replaced_id: int | None = None,
    action: str = "activated",
    old_status: str = "retired",
) -> ModelVersion:
    """Record that `model_id` runs on every replica now (after model_activation.activate);
    the model active before becomes `old_status`."""
    row = session.get(ModelVersion, model_id)
    assert row is not None  # noqa: S101 - callers pass a row they read
    for other in session.scalars(
        select(ModelVersion).where(ModelVersion.status == "active", ModelVersion.id != model_id)
    ):
        other.status = old_status
    row.status, row.stage, row.stage_at = "active", "active", utcnow()
    row.finished_at = row.finished_at or utcnow()
    row.activated_at, row.activated_by = utcnow(), actor
    if replaced_id is not None and replaced_id != model_id:
        row.compared_with_id = replaced_id
    row.reason = None
    audit(session, actor, action, row)
    return row


def rollback_target(session: Session) -> tuple[ModelVersion, ModelVersion]:
    """(the active model, the one it replaced), or RollbackError saying why not."""
    if session.scalar(select(ModelVersion.id).where(ModelVersion.status == "activating")):
        raise RollbackError("En ny modell tas i bruk akkurat nå. Prøv igjen om litt.")
    active = active_model(session)
    if active is None or active.compared_with_id is None:
        raise RollbackError("Det finnes ingen tidligere modell å gå tilbake til.")
    previous = session.get(ModelVersion, active.compared_with_id)
    if previous is None or not previous.path or not Path(previous.path).is_file():
        raise RollbackError("Filen til den forrige modellen finnes ikke lenger.")
    return active, previous


def history(session: Session, limit: int = 50) -> list[ModelVersion]:
    return list(session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc()).limit(limit)))


def model_audit(session: Session, limit: int = 100) -> list[ContentAudit]:
    return list(
        session.scalars(
            select(ContentAudit)
            .where(ContentAudit.model_id.is_not(None))
            .order_by(ContentAudit.id.desc())
            .limit(limit)
        )
    )


def changes_not_in(session: Session, model: ModelVersion | None) -> int:
    """Approved content changes the model was not trained with: what a training adds."""
    trained = set(json.loads(model.change_ids)) if model and model.change_ids else set()
    query = select(func.count(ContentChange.id)).where(ContentChange.status == "approved")
    if trained:
        query = query.where(ContentChange.id.not_in(trained))
    return int(session.scalar(query) or 0)

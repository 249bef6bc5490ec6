"""The trainer process: retrains Rakel when an admin asks, and lets the model go live
only if it is not worse (issue 18; docs/learning-loop.md).

`bot.cli run trainer` (the Procfile's `trainer`) runs in Rasa's environment, niced and
on one thread, so training never takes the CPU from the Rasa server answering users.
It waits for a `model_versions` row with status `queued` (the models page adds one),
and for each:

1. prepares a copy of knowledge/ and bot/data with every approved content change
   written into it (bot/content_export.write_changes), leaving the files as they are;
2. trains: fine-tuned from the live model when only examples and answers changed
   (same labels), in full when an article is new or Rasa refuses to fine-tune;
3. evaluates the new model and, unless it has figures already, the live one
   (bot/model_evaluation.figures);
4. holds it back when the guard says it is worse, else activates it on every Rasa
   replica through `PUT /model` (bot/model_activation.py).

The row's `stage` and `stage_at` are what the page shows while it runs; a row left
in a running status by a trainer that died is marked failed when the next one starts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db import Database
from bot.model_versions import OPEN, RUNNING, audit, made_active
from bot.models import ModelVersion, utcnow
from bot.settings import Settings

logger = logging.getLogger(__name__)

# One thread for every numeric library the training process may use (TensorFlow comes
# with Rasa even though our pipeline trains no network).
ONE_THREAD = {
    name: "1"
    for name in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "TF_NUM_INTRAOP_THREADS",
        "TF_NUM_INTEROP_THREADS",
    )
}
# The training process's environment. Rasa's own training cache is off: it keys a
# trained component by its inputs, not by whether it was fine-tuned, so a full training
# could get a fine-tuned classifier back; our cache (bot/train.py) names both apart.
TRAINING_ENV = {**ONE_THREAD, "RASA_MAX_CACHE_SIZE": "0"}
NICENESS = 19


def _set(database: Database, model_id: int, **fields: Any) -> None:
    if "stage" in fields:
        fields.setdefault("stage_at", utcnow())
    database.run(
        lambda s: s.execute(
            update(ModelVersion).where(ModelVersion.id == model_id).values(**fields)
        )
    )


def claim(database: Database) -> int | None:
    """The oldest queued request, now `training`; None when there is none."""

    def work(session: Session) -> int | None:
        row = session.scalar(
            select(ModelVersion.id).where(ModelVersion.status == "queued").order_by(ModelVersion.id)
        )
        if row is None:
            return None
        taken = session.execute(
            update(ModelVersion)
            .where(ModelVersion.id == row, ModelVersion.status == "queued")
            .values(status="training", stage="preparing", stage_at=utcnow(), started_at=utcnow())
        )
        return row if taken.rowcount == 1 else None

    return database.run(work)


def recover(database: Database) -> None:
    """Rows a dead trainer left running: failed, with the reason, so a new request works."""

    def work(session: Session) -> None:
        for row in session.scalars(select(ModelVersion).where(ModelVersion.status.in_(RUNNING))):
            row.status, row.finished_at = "failed", utcnow()
            row.reason = "Treningen ble avbrutt fordi treneren stoppet. Start en ny trening."
            audit(session, "trainer", "failed", row, row.reason)

    database.run(work)


# --- the live model -------------------------------------------------------------------


def live_row(settings: Settings, database: Database) -> ModelVersion:
    """The row of the model the Rasa servers run, created (with a copy of the file in
    the history folder) when it was trained from the files and is seen for the first time;
    the rows marked active before it become retired."""
    from bot.model_activation import find_model, history_dir, live_models

    file_name = asyncio.run(live_models(settings))[0].model_file or ""
    path = find_model(settings, file_name)
    if path is None:
        raise RuntimeError(f"the live model {file_name!r} is not in {settings.model_dir}")
    name = file_name.removesuffix(".tar.gz")

    def work(session: Session) -> ModelVersion:
        row = session.scalar(
            select(ModelVersion)
            .where(ModelVersion.name == name, ModelVersion.path.is_not(None))
            .order_by(ModelVersion.id.desc())
        )
        if row is None:
            history = history_dir(settings)
            history.mkdir(parents=True, exist_ok=True)
            if path.parent != history:
                shutil.copy2(path, history / path.name)
            row = ModelVersion(
                name=name,
                path=str(history / path.name),
                source="files",
                kind="full",
                status="active",
                requested_at=utcnow(),
                finished_at=utcnow(),
                activated_at=utcnow(),
                activated_by="start",
            )
            session.add(row)
            session.flush()
            audit(session, "trainer", "activated", row, "kjørte allerede da treneren så den")
        for other in session.scalars(
            select(ModelVersion).where(ModelVersion.status == "active", ModelVersion.id != row.id)
        ):
            other.status = "retired"
        row.status = "active"
        session.flush()
        session.expunge(row)
        return row

    return database.run(work)


# --- one training -----------------------------------------------------------------------


def prepare(
    settings: Settings, database: Database, model_id: int
) -> tuple[Settings, Path, list[Any]]:
    """The training copy of the content with every approved change written into it."""
    from bot.content_changes import approved_changes
    from bot.content_export import write_changes
    from bot.train import DATA

    tree = settings.var_dir / "build" / "trainer" / str(model_id)
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(settings.knowledge_dir, tree / "knowledge")
    shutil.copytree(DATA, tree / "data")

    def read(session: Session) -> list[Any]:
        changes = approved_changes(session)
        for change in changes:
            session.expunge(change)
        return changes

    changes = database.run(read)
    write_changes(changes, tree / "knowledge", tree / "data" / "nlu")
    return dataclasses.replace(settings, knowledge_dir=tree / "knowledge"), tree / "data", changes


def train(
    settings: Settings,
    tree_settings: Settings,
    data_dir: Path,
    changes: list[Any],
    live: ModelVersion,
) -> tuple[Path, str, float]:
    """Train the new model: (file, kind, seconds)."""
    from bot.model_activation import history_dir
    from bot.train import ensure_model

    history = history_dir(settings)
    history.mkdir(parents=True, exist_ok=True)
    new_labels = any(c.kind == "new_article" for c in changes)
    started = time.monotonic()
    if not new_labels and live.path and Path(live.path).is_file():
        try:
            model = ensure_model(
                tree_settings,
                data_dir=data_dir,
                finetune_from=Path(live.path),
                extra_env=TRAINING_ENV,
                out_dir=history,
                niceness=NICENESS,
            )
            return model, "finetune", time.monotonic() - started
        except subprocess.CalledProcessError:
            # Rasa refuses when the labels differ from the live model's (its files
            # changed since); a full training is what remains.
            logger.warning("fine-tuning refused; training in full")
            started = time.monotonic()
    model = ensure_model(
        tree_settings,
        data_dir=data_dir,
        extra_env=TRAINING_ENV,
        out_dir=history,
        niceness=NICENESS,
    )
    return model, "full", time.monotonic() - started


def run_job(settings: Settings, database: Database, model_id: int) -> None:
    from bot.model_activation import ActivationError, activate
    from bot.model_evaluation import figures, held_back_reason
    from bot.train import fingerprint

    try:
        live = live_row(settings, database)
        tree_settings, data_dir, changes = prepare(settings, database, model_id)
        _set(
            database,
            model_id,
            stage="training",
            compared_with_id=live.id,
            base_fingerprint=fingerprint(settings),
            change_ids=json.dumps([c.id for c in changes]),
        )
        model, kind, seconds = train(settings, tree_settings, data_dir, changes, live)
        name = model.name.removesuffix(".tar.gz")
        _set(
            database,
            model_id,
            status="evaluating",
            stage="evaluating",
            name=name,
            path=str(model),
            kind=kind,
            training_seconds=round(seconds, 1),
        )
        before = json.loads(live.figures) if live.figures else figures(Path(str(live.path)))
        if not live.figures:
            _set(database, live.id, figures=json.dumps(before))
        after = figures(model, tree_settings.knowledge_dir)
        _set(database, model_id, figures=json.dumps(after))
        reason = held_back_reason(before, after)
        if reason:
            _finish(database, model_id, "held_back", reason)
            return
        if _live_name(settings) != live.name:
            _finish(
                database,
                model_id,
                "held_back",
                "Holdt tilbake: en annen modell ble tatt i bruk mens denne ble trent, så "
                "sammenligningen gjelder ikke lenger. Tren på nytt.",
            )
            return
        _set(database, model_id, status="activating", stage="activating")
        asyncio.run(activate(settings, model))
    except ActivationError as exc:
        _finish(
            database,
            model_id,
            "failed",
            f"Modellen ble ikke tatt i bruk: {exc.replica} svarte ikke som ventet "
            f"({exc.detail}). Den aktive modellen svarer fortsatt.",
        )
        return
    except Exception as exc:  # noqa: BLE001 - the row must say why, whatever it was
        logger.exception("training %s failed", model_id)
        _finish(
            database, model_id, "failed", f"Treningen feilet: {type(exc).__name__}: {exc}"[:900]
        )
        return
    database.run(lambda s: made_active(s, model_id, "trainer", replaced_id=live.id))


def _live_name(settings: Settings) -> str | None:
    from bot.model_activation import live_models

    name = asyncio.run(live_models(settings))[0].model_file or ""
    return name.removesuffix(".tar.gz") or None


def _finish(database: Database, model_id: int, status: str, reason: str) -> None:
    def work(session: Session) -> None:
        row = session.get(ModelVersion, model_id)
        row.status, row.stage, row.stage_at = status, status, utcnow()
        row.reason, row.finished_at = reason, utcnow()
        audit(session, "trainer", status, row, reason)

    database.run(work)


# Model files kept in the history folder besides the active one and its rollback target.
KEEP_MODEL_FILES = 5


def prune_history(settings: Settings, database: Database) -> list[Path]:
    """Delete the history folder's older model files (7-8 MB each, one per training):
    the active model's, the one it replaced (the rollback target), a training's that
    is still open and the newest KEEP_MODEL_FILES stay. Older rows keep their figures
    and lose their `path`. Returns the files deleted."""
    from bot.model_activation import history_dir

    history = history_dir(settings)

    def work(session: Session) -> list[Path]:
        rows = list(
            session.scalars(
                select(ModelVersion)
                .where(ModelVersion.path.is_not(None))
                .order_by(ModelVersion.id.desc())
            )
        )
        keep = {row.id for row in rows[:KEEP_MODEL_FILES]}
        keep |= {row.id for row in rows if row.status in ("active", *OPEN)}
        keep |= {row.compared_with_id for row in rows if row.status == "active"}
        kept_paths = {row.path for row in rows if row.id in keep}
        deleted = []
        for row in rows:
            if row.id in keep or Path(str(row.path)).parent != history:
                continue
            if row.path not in kept_paths:
                Path(str(row.path)).unlink(missing_ok=True)
                deleted.append(Path(str(row.path)))
            row.path = None
        return deleted

    return database.run(work)


def _behind_everything_else() -> None:
    """The trainer's own evaluation work yields the CPU as its trainings do. Its
    session's scheduler group is lowered only when the session is its own (the tests,
    the scaled profile): under a supervisor that shares one session, that would lower
    every process, so there plain nice is all it takes. It never leaves its session:
    a supervisor stops it with its process group (bot/train.lower_priority says why
    nice alone is not always enough)."""
    from bot.train import lower_priority

    if os.getsid(0) == os.getpid():
        lower_priority(NICENESS)
    else:
        os.nice(NICENESS)


def serve(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    _behind_everything_else()
    os.environ.update(ONE_THREAD)  # this process's own evaluation, too
    # A training runs in a session of its own (bot/train.lower_priority), so it would
    # outlive a trainer killed by its signal: SystemExit lets subprocess.run kill it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    database = Database(settings.db_url)
    recover(database)
    logger.info("trainer: waiting for trainings (niced %d, one thread)", NICENESS)
    while True:
        model_id = claim(database)
        if model_id is None:
            time.sleep(settings.trainer_poll_seconds)
            continue
        logger.info("trainer: training %s", model_id)
        run_job(settings, database, model_id)
        for path in prune_history(settings, database):
            logger.info("trainer: deleted the old model file %s", path)

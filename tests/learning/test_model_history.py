"""The models table without a training: the guard's tolerance, one training at a time, a
dead trainer's row, and which model a restarted Rasa server loads."""

from __future__ import annotations

import json

import pytest

from bot import cli, trainer
from bot.model_evaluation import held_back_reason
from bot.model_versions import made_active, request_training, rollback_target
from bot.models import ModelVersion
from bot.train import fingerprint
from tests.review.conftest import database, settings  # noqa: F401 - fixtures


def guard_split(right: float, wrong: float) -> dict:
    return {"test": {"right": right, "wrong": wrong}}


@pytest.mark.parametrize(
    ("right", "wrong", "held"),
    [
        (0.633, 0.046, False),  # the same
        (0.613, 0.046, False),  # right falls by exactly 2 points
        (0.612, 0.046, True),  # by more
        (0.633, 0.056, False),  # wrong rises by exactly 1 point
        (0.633, 0.057, True),  # by more
        (0.700, 0.020, False),  # better
    ],
)
def test_the_guard_allows_two_points_fewer_right_and_one_point_more_wrong(right, wrong, held):
    reason = held_back_reason(guard_split(0.633, 0.046), guard_split(right, wrong))
    assert (reason is not None) == held
    if held:
        assert (
            reason.startswith("Holdt tilbake") and "Den aktive modellen svarer fortsatt" in reason
        )


def test_a_second_request_while_one_is_open_is_the_same_request(database):  # noqa: F811
    first = database.run(lambda s: request_training(s, "admin").id)
    assert database.run(lambda s: request_training(s, "kari").id) == first
    assert trainer.claim(database) == first
    assert trainer.claim(database) is None  # claimed once
    # Running, it is still the open request.
    assert database.run(lambda s: request_training(s, "kari").id) == first


def test_a_training_a_dead_trainer_left_is_failed_with_the_reason(database):  # noqa: F811
    database.run(lambda s: request_training(s, "admin"))
    model_id = trainer.claim(database)
    trainer.recover(database)  # what the next trainer does first
    row = database.run(lambda s: s.get(ModelVersion, model_id))
    assert row.status == "failed" and "treneren stoppet" in row.reason
    assert database.run(lambda s: request_training(s, "admin").id) != model_id


def staff_model(database, settings, base: str, tmp_path) -> ModelVersion:  # noqa: F811
    path = tmp_path / "rakel-staff.tar.gz"
    path.write_bytes(b"model")

    def work(session):
        row = ModelVersion(
            name="rakel-staff",
            path=str(path),
            source="staff",
            kind="finetune",
            status="retired",
            base_fingerprint=base,
            change_ids=json.dumps([]),
        )
        session.add(row)
        session.flush()
        made_active(session, row.id, "trainer")
        return row

    return database.run(work)


def test_a_restart_keeps_the_activated_model_while_the_files_are_the_same(
    database,  # noqa: F811
    settings,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    files_model = tmp_path / "rakel-files.tar.gz"
    monkeypatch.setattr("bot.train.ensure_model", lambda s: files_model)
    active = staff_model(database, settings, fingerprint(settings), tmp_path)
    assert cli.start_model(settings) == tmp_path / "rakel-staff.tar.gz"
    # New files were deployed since it was trained: their own model.
    database.run(lambda s: setattr(s.get(ModelVersion, active.id), "base_fingerprint", "other"))
    assert cli.start_model(settings) == files_model


def test_old_model_files_are_deleted_but_not_the_active_one_or_its_rollback_target(
    database,  # noqa: F811
    settings,  # noqa: F811
):
    history = settings.var_dir / "model_history"
    history.mkdir(parents=True)

    def work(session):
        ids = []
        for number in range(9):
            path = history / f"rakel-{number}.tar.gz"
            path.write_bytes(b"model")
            row = ModelVersion(name=path.name, path=str(path), source="staff", status="retired")
            session.add(row)
            session.flush()
            ids.append(row.id)
        # The oldest two: the active model and the one it replaced.
        made_active(session, ids[1], "trainer", replaced_id=ids[0])
        return ids

    ids = database.run(work)
    deleted = trainer.prune_history(settings, database)

    kept = sorted(p.name for p in history.iterdir())
    newest = [f"rakel-{n}.tar.gz" for n in range(9 - trainer.KEEP_MODEL_FILES, 9)]
    assert kept == sorted(["rakel-0.tar.gz", "rakel-1.tar.gz", *newest])
    assert sorted(p.name for p in deleted) == ["rakel-2.tar.gz", "rakel-3.tar.gz"]
    paths = database.run(lambda s: {r.id: r.path for r in s.query(ModelVersion)})
    assert paths[ids[2]] is None and paths[ids[3]] is None and paths[ids[1]] is not None
    # The rollback target's file is still there: a rollback works.
    active, previous = database.run(rollback_target)
    assert (active.id, previous.id) == (ids[1], ids[0])

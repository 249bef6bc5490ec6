"""Settings.secret(): generated atomically, long enough, from the injected environment."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

RACERS = 24


def _race(var_dir: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings({"RAKEL_VAR_DIR": var_dir})
    barrier.wait()  # every process asks for the new secret at the same moment
    results.put(settings.secret("session_key"))


def test_processes_racing_for_a_new_secret_all_get_the_same_full_one(tmp_path):
    context = multiprocessing.get_context("fork")
    for round_ in range(5):
        var_dir = tmp_path / f"var-{round_}"
        barrier = context.Barrier(RACERS)
        results = context.Queue()
        processes = [
            context.Process(target=_race, args=(str(var_dir), barrier, results))
            for _ in range(RACERS)
        ]
        for process in processes:
            process.start()
        values = [results.get(timeout=60) for _ in processes]
        for process in processes:
            process.join(timeout=60)
            assert process.exitcode == 0
        assert len(set(values)) == 1, f"round {round_}: {len(set(values))} different secrets"
        assert len(values[0]) >= 32
        assert (var_dir / "secrets" / "session_key").read_text() == values[0]
        # No temporary files left behind.
        assert [p.name for p in (var_dir / "secrets").iterdir()] == ["session_key"]


def test_a_short_secret_in_the_environment_is_refused_at_start():
    with pytest.raises(SettingsError, match="RAKEL_SESSION_KEY must be at least 32 bytes"):
        load_settings({"RAKEL_SESSION_KEY": "hemmelig"})


def test_a_short_or_empty_generated_secret_is_refused(tmp_path):
    folder = tmp_path / "secrets"
    folder.mkdir()
    (folder / "session_key").write_text("")  # what an interrupted first start could leave
    settings = load_settings({"RAKEL_VAR_DIR": str(tmp_path)})
    with pytest.raises(SettingsError, match="delete it to generate a new one"):
        settings.secret("session_key")


def test_the_injected_environment_is_used_and_the_value_cached(tmp_path, monkeypatch):
    value = "x" * 40
    monkeypatch.setenv("RAKEL_SESSION_KEY", "y" * 40)  # the process environment is not asked
    settings = load_settings({"RAKEL_VAR_DIR": str(tmp_path), "RAKEL_SESSION_KEY": value})
    assert settings.secret("session_key") == value
    assert "x" * 40 not in repr(settings)

    generated = settings.secret("widget_key")
    path: Path = tmp_path / "secrets" / "widget_key"
    path.unlink()  # read once: later calls do not go to the disk
    assert settings.secret("widget_key") == generated
    assert not path.exists()

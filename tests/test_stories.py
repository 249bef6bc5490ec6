"""`rasa test core` on the test stories: every main flow is predicted as written."""

from __future__ import annotations

import subprocess

import pytest

from bot.settings import PROJECT_ROOT, load_settings
from bot.train import ensure_model, rasa_cli


@pytest.mark.e2e
def test_every_test_story_passes(tmp_path):
    model = ensure_model(load_settings())
    result = subprocess.run(
        [
            rasa_cli(),
            "test",
            "core",
            "--model",
            str(model),
            "--stories",
            str(PROJECT_ROOT / "tests" / "stories"),
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = (
        failed.read_text() if failed.exists() else result.stdout[-3000:] + result.stderr[-3000:]
    )
    assert result.returncode == 0, details
    assert not failed.exists() or "- story:" not in failed.read_text(), details

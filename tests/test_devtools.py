"""The tooling package: apart from the product, each harness once, and its readiness
poller waiting for "ready", not for "answers something"."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.settings import PROJECT_ROOT
from devtools.readiness import ProcessExited, ready_url, wait_http

PYTHON_TREES = ("bot", "devtools", "tests", "scripts", "teams")


def python_files(*trees: str):
    for tree in trees:
        yield from (PROJECT_ROOT / tree).rglob("*.py")


def imported_modules(path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_the_product_package_imports_no_tooling_and_ships_none():
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): sorted(
            name for name in imported_modules(path) if name.split(".")[0] in ("devtools", "tests")
        )
        for path in python_files("bot")
    }
    assert {path: names for path, names in offenders.items() if names} == {}
    assert not (PROJECT_ROOT / "bot" / "scaled").exists()
    # (tomllib is Python 3.11+; Rakel still runs on 3.10.)
    find = (PROJECT_ROOT / "pyproject.toml").read_text().split("[tool.setuptools.packages.find]")
    assert re.match(r"\s*include = \[\"bot\*\"\]\n", find[1])


def test_each_harness_function_is_defined_once():
    wanted = {"free_port", "wait_http", "wait_port", "stop_process_group", "run_level"}
    found: dict[str, list[str]] = {name: [] for name in wanted}
    for path in python_files(*PYTHON_TREES):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in wanted:
                found[node.name].append(str(path.relative_to(PROJECT_ROOT)))
    assert {name: len(paths) for name, paths in found.items()} == dict.fromkeys(wanted, 1), found


def edits_sys_path(path) -> bool:
    """A call like sys.path.insert(…) / sys.path.append(…)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "path"
            and isinstance(node.func.value.value, ast.Name)
            and node.func.value.value.id == "sys"
        ):
            return True
    return False


def test_no_module_edits_the_import_path():
    edits = [
        str(path.relative_to(PROJECT_ROOT))
        for path in python_files(*PYTHON_TREES)
        if edits_sys_path(path)
    ]
    assert edits == []


class _Replica(BaseHTTPRequestHandler):
    """Answers 503 until it has been asked `not_ready_for` times, then 200."""

    not_ready_for = 3
    asked = 0

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).asked += 1
        status = 503 if type(self).asked <= self.not_ready_for else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def replica():
    _Replica.asked = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Replica)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_poller_waits_past_503_until_ready(replica):
    wait_http(ready_url("web", replica), timeout=20)
    # A 503 ("up, not ready") never counted as ready: only the fourth answer did.
    assert _Replica.asked == 4


def test_the_poller_gives_up_at_once_when_the_process_died(replica):
    _Replica.not_ready_for = 10**6
    try:
        process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
        process.wait()
        with pytest.raises(ProcessExited):
            wait_http(ready_url("web", replica), timeout=60, process=process)
    finally:
        _Replica.not_ready_for = 3


def test_rasa_is_ready_when_status_answers_with_the_token():
    assert ready_url("rasa", "http://127.0.0.1:5005/", "t0k") == (
        "http://127.0.0.1:5005/status?token=t0k"
    )
    assert ready_url("actions", "http://127.0.0.1:5055") == "http://127.0.0.1:5055/health"
    with pytest.raises(ValueError, match="token"):
        ready_url("rasa", "http://127.0.0.1:5005")

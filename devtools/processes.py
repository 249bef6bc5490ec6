"""Start and stop Rakel's real processes: each in its own process group, on free ports
and a private var folder (the end-to-end tests, `make bench`, the scaled profile)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bot.settings import PROJECT_ROOT, process_python
from devtools.ports import LOOPBACK
from devtools.readiness import ProcessExited, answers_ok, ready_url, wait_until

# Rasa loads TensorFlow and the model; on 2 busy cores that can take minutes.
START_TIMEOUT = 240


def spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start `command` from the checkout in a new session (its own process group, so
    stopping it stops its children too), output appended to `log`."""
    with log.open("ab") as handle:  # the child keeps its own copy
        return subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def rakel_command(group: str, env: Mapping[str, str]) -> list[str]:
    """One of Rakel's processes as `make run` starts it (rasa, actions, web, worker), in
    its own Python environment under `env`: the web service and the worker in the web
    environment, whichever environment this process runs in."""
    return [str(process_python(group, env)), "-m", "bot.cli", "run", group]


def stop_process_group(pid: int, timeout: float = 30) -> None:
    """SIGTERM the group, SIGKILL what is left after `timeout` seconds.

    Works on any group leader's pid, ours or started from another shell.
    """
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    _reap(pid)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass  # not our child: its own parent reaps it


def log_tail(path: Path, lines: int = 25) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Rakel:
    """Rasa server, action server and web service with their URLs; `restart(name)`
    stops and starts one."""

    var_dir: Path
    env: dict[str, str]
    ports: dict[str, int]
    logs: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://{LOOPBACK}:{self.ports[name]}"

    @property
    def rasa_url(self) -> str:
        return self.url("rasa")

    @property
    def actions_url(self) -> str:
        return self.url("actions")

    @property
    def web_url(self) -> str:
        return self.url("web")

    @property
    def rasa_token(self) -> str:
        # Rasa's own settings write it on first start unless the environment sets it.
        return self.env.get("RAKEL_RASA_TOKEN") or (
            (self.var_dir / "secrets" / "rasa_token").read_text().strip()
        )

    def ready(self, name: str) -> bool:
        try:
            token = self.rasa_token if name == "rasa" else None
        except FileNotFoundError:
            return False  # Rasa has not written its token yet: it is still starting
        return answers_ok(ready_url(name, self.url(name), token))

    def start(self, name: str, timeout: float = START_TIMEOUT) -> None:
        log = self.logs / f"{name}.log"
        process = spawn(rakel_command(name, self.env), self.env, log)
        self.processes[name] = process
        try:
            wait_until(lambda: self.ready(name), timeout=timeout, what=name, process=process)
        except ProcessExited as exc:
            raise ProcessExited(f"{exc}; the end of {log}:\n{log_tail(log)}") from None

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        stop_process_group(process.pid)
        process.wait(timeout=10)

    def restart(self, name: str) -> None:
        self.stop(name)
        self.start(name)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start_trainer(self, timeout: float = START_TIMEOUT) -> None:
        """The trainer has no port: it is ready once it says it waits for trainings."""
        log = self.logs / "trainer.log"
        process = spawn(rakel_command("trainer", self.env), self.env, log)
        self.processes["trainer"] = process
        wait_until(
            lambda: "waiting for trainings" in self.log("trainer"),
            timeout=timeout,
            what="trainer",
            process=process,
        )


@contextmanager
def running(
    var_dir: Path,
    ports: dict[str, int],
    env: dict[str, str],
    processes: tuple[str, ...] = ("actions", "web", "rasa"),
) -> Iterator[Rakel]:
    """Rakel's processes on a migrated database under `var_dir`, stopped on exit."""
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    logs = var_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    rakel = Rakel(var_dir=var_dir, env=env, ports=ports, logs=logs)
    try:
        for name in processes:
            if name == "trainer":
                rakel.start_trainer()
            else:
                rakel.start(name)
        yield rakel
    finally:
        rakel.stop_all()


def make_env(
    var_dir: Path, ports: dict[str, int], extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of Rakel's processes on `ports`, with state under `var_dir`."""
    env = dict(os.environ)
    env.update(
        {
            "RAKEL_VAR_DIR": str(var_dir),
            # Reuse the project's model cache: same inputs, same model.
            "RAKEL_MODEL_DIR": os.environ.get(
                "RAKEL_MODEL_DIR", str(PROJECT_ROOT / "var" / "models")
            ),
            # And its embedding cache: a fixture model's training embeds only new texts.
            "RAKEL_EMBEDDING_CACHE": os.environ.get(
                "RAKEL_EMBEDDING_CACHE", str(PROJECT_ROOT / "var" / "cache")
            ),
            "RAKEL_RASA_URL": f"http://{LOOPBACK}:{ports['rasa']}",
            "RAKEL_ACTION_SERVER_URL": f"http://{LOOPBACK}:{ports['actions']}",
            "RAKEL_WEB_PORT": str(ports["web"]),
            # The widget's socket accepts the web service's origin (the demo page).
            "RAKEL_WIDGET_ORIGINS": f"http://{LOOPBACK}:{ports['web']}",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            # The tests talk plain http to the web service.
            "RAKEL_COOKIE_SECURE": "0",
        }
    )
    env.update(extra or {})
    return env

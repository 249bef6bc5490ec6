"""Start Rakel's real processes for end-to-end tests, on free ports and a temp var dir."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except Exception as exc:  # noqa: BLE001 - keep polling until the deadline
            last_error = exc
        time.sleep(0.5)
    raise TimeoutError(f"{url} not ready after {timeout}s: {last_error}")


@dataclass
class Rakel:
    """The three processes with their URLs; `restart(name)` stops and starts one."""

    var_dir: Path
    env: dict[str, str]
    ports: dict[str, int]
    logs: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['rasa']}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['actions']}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['web']}"

    @property
    def rasa_token(self) -> str:
        return (self.var_dir / "secrets" / "rasa_token").read_text().strip()

    def readiness_url(self, name: str) -> str:
        return {
            "rasa": self.rasa_url + "/",
            "actions": self.actions_url + "/health",
            "web": self.web_url + "/health",
        }[name]

    def start(self, name: str, timeout: float = 240) -> None:
        with open(self.logs / f"{name}.log", "ab") as log:  # the child keeps its own copy
            process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run", name],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[name] = process
        url = self.readiness_url(name)
        if name == "web":
            # /health answers 503 while anything else is down; any answer means up.
            url = self.web_url + "/health?ready"
            self._wait_any_answer(url, timeout, process)
        else:
            wait_http(url, timeout, process)

    @staticmethod
    def _wait_any_answer(url: str, timeout: float, process: subprocess.Popen) -> None:
        import urllib.error

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"web exited with {process.returncode}")
            try:
                urllib.request.urlopen(url, timeout=2)  # noqa: S310 - loopback
                return
            except urllib.error.HTTPError:
                return
            except Exception:  # noqa: BLE001
                time.sleep(0.3)
        raise TimeoutError(url)

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
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


def make_env(
    var_dir: Path, ports: dict[str, int], extra: dict[str, str] | None = None
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "RAKEL_VAR_DIR": str(var_dir),
            # Reuse the project's model cache: same inputs, same model.
            "RAKEL_MODEL_DIR": os.environ.get("RAKEL_MODEL_DIR", str(ROOT / "var" / "models")),
            "RAKEL_RASA_URL": f"http://127.0.0.1:{ports['rasa']}",
            "RAKEL_ACTION_SERVER_URL": f"http://127.0.0.1:{ports['actions']}",
            "RAKEL_WEB_PORT": str(ports["web"]),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            # The tests talk plain http to the web service.
            "RAKEL_COOKIE_SECURE": "0",
        }
    )
    if "microsoft" in ports:
        # The Teams channel talks to local fakes of Microsoft's endpoints
        # (tests/support/fake_microsoft.py, started by the `microsoft` fixture).
        from tests.support.fake_microsoft import FakeMicrosoft

        env.update(FakeMicrosoft(port=ports["microsoft"]).env())
    # The widget's socket accepts the web service's origin (the demo page).
    env["RAKEL_WIDGET_ORIGINS"] = f"http://127.0.0.1:{ports['web']}"
    env.update(extra or {})
    return env

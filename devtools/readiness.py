"""When a started process is ready, and one poller to wait for it.

What "ready" means for each of Rakel's processes (the URL answers 200):
- rasa: `GET /status` with the API token — Rasa answers 409 until a model is loaded;
- actions: `GET /health` — rasa-sdk registers the actions before it listens;
- web: `GET /health?ready` — the database is reachable and migrated (bot/web/health.py).
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

from devtools.ports import LOOPBACK

READY_PATHS = {"rasa": "/status", "actions": "/health", "web": "/health?ready"}


class ProcessExited(RuntimeError):
    """The process being waited for ended before it was ready."""


def ready_url(group: str, base_url: str, rasa_token: str | None = None) -> str:
    url = base_url.rstrip("/") + READY_PATHS[group]
    if group == "rasa":
        if not rasa_token:
            raise ValueError("Rasa's /status needs the API token")
        url += "?" + urllib.parse.urlencode({"token": rasa_token})
    return url


def answers_ok(url: str, timeout: float = 2) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return response.status == 200
    except urllib.error.HTTPError:
        return False  # it listens, but says it is not ready (503, 409)
    except (OSError, ValueError):
        return False


def listening(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    process: subprocess.Popen | None = None,
    alive: Callable[[], bool] | None = None,
    interval: float = 0.2,
) -> None:
    """Poll `condition` until it holds; fail early when the process died.

    `process` (our child) or `alive` (any other way to tell) makes a crash during
    start an immediate error instead of a wait for the whole timeout.
    """
    if process is not None and alive is None:
        alive = lambda: process.poll() is None  # noqa: E731 - a one-line probe
    deadline = time.monotonic() + timeout
    while True:
        if alive is not None and not alive():
            raise ProcessExited(f"{what}: the process exited first")
        if condition():
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not after {timeout:.0f} s")
        time.sleep(interval)


def wait_http(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Until `url` answers 200."""
    wait_until(lambda: answers_ok(url), timeout=timeout, what=f"{url} ready", process=process)


def wait_port(port: int, timeout: float = 30, process: subprocess.Popen | None = None) -> None:
    """Until something accepts connections on the loopback `port`."""
    wait_until(
        lambda: listening(port),
        timeout=timeout,
        what=f"listening on {LOOPBACK}:{port}",
        process=process,
        interval=0.1,
    )

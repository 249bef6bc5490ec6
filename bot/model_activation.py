"""Which model the Rasa servers run, and switching them to another one.

Rasa's own HTTP API does it: `GET /status` names the loaded model file, and
`PUT /model` loads a model file and swaps the server's agent once it is loaded. A
message that arrives meanwhile waits for the event loop and is answered (by the old
agent or the new one), nothing restarts and nothing is lost. Every replica in
`Settings.rasa_replicas` is switched; when one refuses, those already switched go
back to the model they had, so the replicas never answer with different models.

aiohttp only: both Python environments import this (the trainer in Rasa's, the
models page in the web environment for a rollback).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.settings import Settings

# Loading a model (spaCy, e5, the classifier) takes seconds; a busy replica longer.
LOAD_TIMEOUT_SECONDS = 300.0


class ActivationError(RuntimeError):
    """A replica did not load the model; `replica` says which."""

    def __init__(self, replica: str, detail: str) -> None:
        self.replica, self.detail = replica, detail
        super().__init__(f"{replica}: {detail}")


@dataclass(frozen=True)
class Replica:
    url: str
    model_file: str | None  # the file's name: Rasa reports no folder


def history_dir(settings: Settings) -> Path:
    """Models the trainer trained, and copies of those that ran live: the files of the
    models table and its rollback. With the deployment's state (var/), not in the
    training cache (model_dir), which keeps only its newest few and may be shared."""
    return settings.var_dir / "model_history"


def find_model(settings: Settings, name: str) -> Path | None:
    """The model file called `name` (as /status reports it), if it is still here."""
    for folder in (history_dir(settings), settings.model_dir):
        if (folder / name).is_file():
            return folder / name
    return None


def _params(settings: Settings) -> dict[str, str]:
    return {"token": settings.secret("rasa_token")}


async def _status(session: aiohttp.ClientSession, settings: Settings, url: str) -> Replica:
    try:
        async with session.get(f"{url}/status", params=_params(settings)) as response:
            if response.status != 200:
                raise ActivationError(url, f"GET /status answered {response.status}")
            body = await response.json()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ActivationError(url, f"{type(exc).__name__}: {exc}") from exc
    return Replica(url, body.get("model_file"))


async def live_models(settings: Settings) -> list[Replica]:
    """What each replica runs now."""
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        return [await _status(session, settings, url) for url in settings.rasa_replicas]


async def _load(session: aiohttp.ClientSession, settings: Settings, url: str, model: str) -> None:
    try:
        async with session.put(
            f"{url}/model", params=_params(settings), json={"model_file": model}
        ) as response:
            if response.status != 204:
                text = (await response.text())[:300]
                raise ActivationError(url, f"PUT /model answered {response.status}: {text}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ActivationError(url, f"{type(exc).__name__}: {exc}") from exc
    loaded = await _status(session, settings, url)
    if Path(loaded.model_file or "").name != Path(model).name:
        raise ActivationError(url, f"runs {loaded.model_file} after loading {model}")


async def activate(settings: Settings, model: Path) -> None:
    """Load `model` on every replica, or on none (ActivationError says which refused)."""
    timeout = aiohttp.ClientTimeout(total=LOAD_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        before = [await _status(session, settings, url) for url in settings.rasa_replicas]
        switched: list[Replica] = []
        try:
            for replica in before:
                await _load(session, settings, replica.url, str(model))
                switched.append(replica)
        except ActivationError:
            for replica in switched:
                previous = find_model(settings, replica.model_file or "")
                if previous is not None:
                    try:
                        await _load(session, settings, replica.url, str(previous))
                    except ActivationError:
                        pass  # the error raised names the first refusal; the page says so
            raise

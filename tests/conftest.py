"""Shared fixtures: the real Rakel processes, and a REST client to talk to them."""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from bot.settings import PROJECT_ROOT as ROOT
from devtools.ports import free_port
from devtools.processes import Rakel, make_env, running
from tests.support.fake_microsoft import FakeMicrosoft

# A throwaway PostgreSQL cluster for storage tests (fixtures postgres_server, postgres_url).
pytest_plugins = ["tests.support.postgres"]


# Which tests run in which Python environment (docs/architecture.md), declared once, here,
# by path. Not a marker: a module that imports Rasa cannot even be imported in the web
# environment, so the choice has to be made before collection, and a path decides that.
# The web service's and the worker's own tests: in the web environment only, the one those
# processes run in (its aiohttp 3.14 and SQLAlchemy 2).
WEB_ENV_TESTS = (
    "tests/review/test_person_http.py",
    "tests/review/test_review_browser.py",
    "tests/review/test_review_http.py",
    "tests/review/test_sessions.py",
    "tests/review/test_web_fuzz.py",
    "tests/notices/test_notice_banner.py",
    "tests/notices/test_notice_browser.py",
    "tests/notices/test_notice_figures.py",
    "tests/notices/test_notice_pages.py",
    "tests/learning/test_model_pages.py",
    "tests/learning/test_models_browser.py",
    "tests/tickets/test_itsm_delivery.py",
    "tests/test_health.py",
)
# Code both environments import (models, repository, notices, privacy, settings, content,
# migrations): in each, on SQLAlchemy 1.4 and 2.0. Every other test needs Rasa and runs
# in the Rasa environment only.
BOTH_ENV_TESTS = (
    "tests/notices/test_notice_catalogue.py",
    "tests/notices/test_notice_repository.py",
    "tests/tickets/test_repository.py",
    "tests/tickets/test_transcript.py",
    "tests/test_migrations.py",
    "tests/test_privacy.py",
    "tests/test_privacy_corpora.py",
    "tests/test_privacy_fuzz.py",
    "tests/test_secrets.py",
)
IN_RASA_ENV = importlib.util.find_spec("rasa") is not None


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    """Leave out what belongs to the other environment (see WEB_ENV_TESTS)."""
    try:
        path = collection_path.relative_to(ROOT).as_posix()
    except ValueError:
        return None
    if not path.startswith("tests/"):
        return None
    if IN_RASA_ENV:
        return True if path in WEB_ENV_TESTS else None
    wanted = WEB_ENV_TESTS + BOTH_ENV_TESTS
    if collection_path.is_dir():
        # A folder is entered when something wanted lies in it.
        return None if any(w.startswith(path + "/") for w in wanted) else True
    return None if path in wanted else True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A web-environment test named on the Rasa environment's command line would test the
    web service on Rasa's aiohttp and SQLAlchemy: deselected, and the reason said."""
    if not IN_RASA_ENV:
        return
    web = [i for i in items if i.path.relative_to(ROOT).as_posix() in WEB_ENV_TESTS]
    if not web:
        return
    config.hook.pytest_deselected(items=web)
    items[:] = [i for i in items if i not in web]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"{len(web)} tests deselected: they belong to the web environment "
            "(.venv-web/bin/python -m pytest ..., or scripts/test.sh for both)"
        )


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its lowest cost for accounts made inside the test process.

    The production cost (about 0.3 s a hash here) is the point of argon2, and every
    process Rakel starts keeps it; the page tests log in hundreds of times and check
    behaviour, not cost.
    """
    from argon2 import PasswordHasher

    from bot.web import staff_accounts

    monkeypatch.setattr(
        staff_accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture(scope="session")
def rakel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rakel]:
    """Rasa server, action server and web service, started once for the session."""
    var_dir = tmp_path_factory.mktemp("rakel-var")
    ports = {name: free_port() for name in ("rasa", "actions", "web", "microsoft")}
    # The Teams channel talks to local fakes of Microsoft's endpoints (the
    # `microsoft` fixture starts them on this port).
    env = make_env(var_dir, ports, FakeMicrosoft(port=ports["microsoft"]).env())
    with running(var_dir, ports, env) as instance:
        yield instance


class RestClient:
    """Talks to Rakel like a user of the REST channel."""

    def __init__(self, rakel: Rakel, sender: str | None = None) -> None:
        self.rakel = rakel
        self.sender = sender or f"test-{uuid.uuid4().hex[:12]}"
        # What Rasa and the tickets call this conversation (bot/identity.py).
        self.conversation_id = f"anon:rest:{self.sender}"

    def say(self, text: str, metadata: dict | None = None) -> list[dict]:
        body: dict = {"sender": self.sender, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        response = requests.post(
            f"{self.rakel.rasa_url}/webhooks/rest/webhook", json=body, timeout=60
        )
        response.raise_for_status()
        return response.json()

    def texts(self, text: str, metadata: dict | None = None) -> list[str]:
        return [m.get("text", "") for m in self.say(text, metadata)]

    def reply(self, text: str, metadata: dict | None = None) -> str:
        """All reply texts as one string (Rasa sends each paragraph as a message)."""
        return "\n\n".join(self.texts(text, metadata))

    def tracker(self) -> dict:
        response = requests.get(
            f"{self.rakel.rasa_url}/conversations/{quote(self.conversation_id, safe=':')}/tracker",
            params={"token": self.rakel.rasa_token},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def microsoft(rakel: Rakel) -> Iterator[FakeMicrosoft]:
    """Microsoft's side of Teams (keys, token endpoint, Bot Connector) on the port Rakel uses."""
    fake = FakeMicrosoft(port=rakel.ports["microsoft"]).start()
    yield fake
    fake.stop()


@pytest.fixture
def user(rakel: Rakel) -> RestClient:
    return RestClient(rakel)


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT

"""Action tests: the real domain, a fresh database per test, real knowledge base."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rasa.shared.core.domain import Domain

from bot import migrate
from bot.actions import services
from bot.db import Database
from bot.settings import PROJECT_ROOT


@pytest.fixture(scope="session")
def domain() -> dict:
    return Domain.load(str(PROJECT_ROOT / "domain.yml")).as_dict()


@pytest.fixture
def database(tmp_path, monkeypatch) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'rakel.db'}"
    monkeypatch.setenv("RAKEL_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("RAKEL_DB_URL", url)
    db = Database(url)
    migrate.upgrade(db)
    services.reset()
    yield db
    services.reset()
    db.dispose()

"""Storage tests run twice: on SQLite (the default) and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot import migrate
from bot.db import Database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rakel.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def db(db_url) -> Iterator[Database]:
    database = Database(db_url)
    migrate.upgrade(database)
    yield database
    database.dispose()

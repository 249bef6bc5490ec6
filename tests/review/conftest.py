"""Fixtures shared by the service-desk page tests: settings with a bootstrap admin and
a migrated database in a temporary folder."""

from __future__ import annotations

import pytest

from tests.support.staff import ADMIN, ADMIN_PASSWORD, migrated, staff_settings


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("RAKEL_ADMIN_USER", ADMIN)
    monkeypatch.setenv("RAKEL_ADMIN_PASSWORD", ADMIN_PASSWORD)
    monkeypatch.delenv("RAKEL_SESSION_KEY", raising=False)
    monkeypatch.delenv("RAKEL_COOKIE_SECURE", raising=False)
    return staff_settings(tmp_path)


@pytest.fixture
def database(settings):
    database = migrated(settings)
    yield database
    database.dispose()

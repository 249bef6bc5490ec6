"""Fixtures shared by the service-desk page tests: settings with a bootstrap admin and
a migrated database in a temporary folder."""

from __future__ import annotations

import pytest

from tests.support.staff import migrated, staff_settings


@pytest.fixture
def settings(tmp_path):
    return staff_settings(tmp_path)


@pytest.fixture
def database(settings):
    database = migrated(settings)
    yield database
    database.dispose()

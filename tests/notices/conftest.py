"""Fixtures for the outage-notice tests: a migrated database and a valid notice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.web.app import create_app
from bot.web.staff_accounts import create_staff

# The notice pages are staff pages: the same settings and migrated database.
from tests.review.conftest import database, settings  # noqa: F401 - fixtures

AGENT = "saksbehandler"
AGENT_PASSWORD = "lang-nok-passord-123"


@pytest.fixture
async def client(settings, database) -> AsyncIterator[TestClient]:  # noqa: F811
    """The web service, with the bootstrap admin and a staff member who is not one."""
    database.run(lambda s: create_staff(s, AGENT, AGENT_PASSWORD))
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client


def notice_values(**overrides: Any) -> dict[str, Any]:
    """A valid active Teams notice for Molde that started an hour ago."""
    now = datetime.now(timezone.utc)
    return {
        "title": "Teams er nede",
        "text": "Teams-møter og chat virker ikke. Vi jobber med saken.",
        "service": "teams",
        "municipalities": ["Molde"],
        "starts_at": now - timedelta(hours=1),
        "expected_end_at": now + timedelta(hours=2),
        "status": "aktiv",
        **overrides,
    }

"""Fixtures for the outage-notice tests: a migrated database and a valid notice."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

# The notice pages are staff pages: the same settings and migrated database.
from tests.review.conftest import database, settings  # noqa: F401 - fixtures


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

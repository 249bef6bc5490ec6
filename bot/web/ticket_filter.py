"""The staff queue's filter, sort and page, parsed from query parameters.

The queue page and the JSON API read the same parameters; the API is strict (a bad
value is a 400 naming the parameter), the page ignores bad values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.models import TICKET_PRIORITIES, TICKET_STATUSES
from bot.tickets.repository import TicketError

PER_PAGE = 25
MAX_PER_PAGE = 100
DEFAULT_SORT = "nyeste"
# Sort keys offered to staff: name -> (Ticket column, descending). Priority sorts by
# urgency, not alphabetically (bot/web/ticket_queries.py).
SORTS = {
    "nyeste": ("created_at", True),
    "eldste": ("created_at", False),
    "oppdatert": ("updated_at", True),
    "prioritet": ("priority", False),
    "status": ("status", False),
}


@dataclass(frozen=True)
class TicketFilter:
    status: str | None = None
    category: str | None = None
    municipality: str | None = None
    priority: str | None = None
    q: str | None = None
    sort: str = DEFAULT_SORT
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_query(cls, query: Mapping[str, str], *, strict: bool = False) -> TicketFilter:
        """Parse query parameters. strict (the API): bad values raise; pages ignore them."""

        def pick(name: str, allowed: tuple[str, ...] | None = None) -> str | None:
            value = (query.get(name) or "").strip()
            if not value:
                return None
            if allowed is not None and value not in allowed:
                if strict:
                    raise TicketError(name, f"must be one of {', '.join(allowed)}")
                return None
            return value[:200]

        def number(name: str, default: int, upper: int) -> int:
            raw = (query.get(name) or "").strip()
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError:
                if strict:
                    raise TicketError(name, "must be a whole number") from None
                return default
            if not 1 <= value <= upper:
                if strict:
                    raise TicketError(name, f"must be between 1 and {upper}")
                return min(max(value, 1), upper)
            return value

        return cls(
            status=pick("status", TICKET_STATUSES),
            category=pick("category"),
            municipality=pick("municipality"),
            priority=pick("priority", TICKET_PRIORITIES),
            q=pick("q"),
            sort=pick("sort", tuple(SORTS)) or DEFAULT_SORT,
            page=number("page", 1, 100_000),
            per_page=number("per_page", PER_PAGE, MAX_PER_PAGE),
        )

    def query_args(self, **overrides: Any) -> dict[str, str]:
        """This filter as query parameters (for links to other pages or sorts)."""
        values = replace(self, **overrides)
        args = {
            "status": values.status,
            "category": values.category,
            "municipality": values.municipality,
            "priority": values.priority,
            "q": values.q,
            "sort": values.sort if values.sort != DEFAULT_SORT else None,
            "page": str(values.page) if values.page != 1 else None,
        }
        return {k: v for k, v in args.items() if v}

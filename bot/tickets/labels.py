"""Norwegian labels and accepted words for ticket fields, from labels.yml (content)."""

from __future__ import annotations

import functools
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot.content.catalogue import catalogue
from bot.models import TICKET_PRIORITIES, TICKET_STATUSES

LABELS_FILE = Path(__file__).with_name("labels.yml")


@functools.cache
def labels() -> dict[str, Any]:
    data = yaml.safe_load(LABELS_FILE.read_text(encoding="utf-8"))
    # The codes are the database's: content may relabel them, never invent new ones.
    if set(data["statuses"]) != set(TICKET_STATUSES):
        raise ValueError(f"{LABELS_FILE}: statuses must be exactly {TICKET_STATUSES}")
    if set(data["priorities"]) != set(TICKET_PRIORITIES):
        raise ValueError(f"{LABELS_FILE}: priorities must be exactly {TICKET_PRIORITIES}")
    return data


def status_label(code: str) -> str:
    return labels()["statuses"].get(code, code)


def priority_label(code: str) -> str:
    entry = labels()["priorities"].get(code)
    return entry["label"] if entry else code


def municipalities() -> list[str]:
    return list(catalogue().municipalities)


def _first_match(text: str | None, candidates: dict[str, list[str]]) -> str | None:
    """The key whose word appears earliest in the text (ties: first listed)."""
    if not text:
        return None
    best: tuple[int, str] | None = None
    for key, words in candidates.items():
        for word in words:
            match = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE)
            if match and (best is None or match.start() < best[0]):
                best = (match.start(), key)
    return best[1] if best else None


def match_municipality(text: str | None) -> str | None:
    """ "Molde", "nesset" (merged into Molde), "Rauma kommune" → the municipality."""
    words = {
        name: [name.lower(), *spellings] for name, spellings in catalogue().municipalities.items()
    }
    return _first_match(text, words)


def match_priority(text: str | None) -> str | None:
    """A priority code from "Høy", "hoy", "kritisk", "det haster" …"""
    words = {code: entry["words"] for code, entry in labels()["priorities"].items()}
    return _first_match(text, words)


def match_field(text: str | None) -> str | None:
    """The form slot a message like "endre kommune" wants to change."""
    return _first_match(text, {slot: words for slot, words in labels()["fields"].items()})


def local_time(value: datetime) -> str:
    """A stored UTC time as users read it, in Norway's time zone."""
    settings = labels()["time"]
    if value.tzinfo is None:  # SQLite returns naive datetimes; we store UTC
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(ZoneInfo(settings["zone"])).strftime(settings["format"])

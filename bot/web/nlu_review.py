""" "Samtaler Rakel ikke klarte": listing missed messages, and the NLU export.

Staff decide on a missed user message (the intent it should have had: any intent in
the content catalogue, including the retrieval intents faq/<id>; or dismiss it) through
bot/content_changes.py, and export the marked messages as Rasa NLU training data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.content.catalogue import catalogue
from bot.feedback import MISS_KINDS
from bot.models import NluMiss, Ticket

PER_PAGE = 50
# Undecided, given an intent, dismissed.
STATES = ("umerket", "merket", "avvist")


def intents_by_topic() -> dict[str, list[str]]:
    content = catalogue()
    return {topic: content.intents(topic) for topic in content.topics}


def article_titles() -> dict[str, str]:
    """faq/<id> -> the article's title, as staff choose an article."""
    return {a.intent: a.title for a in catalogue().articles.values()}


def known_intents() -> set[str]:
    return {intent for intents in intents_by_topic().values() for intent in intents}


@dataclass(frozen=True)
class MissFilter:
    kind: str | None = None
    state: str | None = None  # "umerket" | "merket" | "avvist" | None (all)
    without_ticket: bool = False
    page: int = 1

    @classmethod
    def from_query(cls, query: Any) -> MissFilter:
        kind = query.get("kind") if query.get("kind") in MISS_KINDS else None
        state = query.get("state") if query.get("state") in STATES else None
        try:
            page = max(1, int(query.get("page", "1")))
        except ValueError:
            page = 1
        return cls(kind=kind, state=state, without_ticket=query.get("uten_sak") == "1", page=page)


@dataclass(frozen=True)
class MissRow:
    miss: NluMiss
    ticket_id: str | None  # the conversation's ticket, if it ended in one


def list_misses(session: Session, f: MissFilter) -> tuple[list[MissRow], int, int]:
    # Public id of a ticket from the same conversation, if any.
    ticket_of = (
        select(func.min(Ticket.public_id))
        .where(Ticket.conversation_id == NluMiss.conversation_id)
        .correlate(NluMiss)
        .scalar_subquery()
    )
    statement = select(NluMiss, ticket_of.label("ticket_id"))
    if f.kind:
        statement = statement.where(NluMiss.kind == f.kind)
    if f.state == "umerket":
        statement = statement.where(
            NluMiss.corrected_intent.is_(None), NluMiss.dismissed_at.is_(None)
        )
    elif f.state == "merket":
        statement = statement.where(NluMiss.corrected_intent.is_not(None))
    elif f.state == "avvist":
        statement = statement.where(NluMiss.dismissed_at.is_not(None))
    if f.without_ticket:
        statement = statement.where(ticket_of.is_(None))
    total = session.execute(select(func.count()).select_from(statement.subquery())).scalar_one()
    pages = max(1, -(-total // PER_PAGE))
    page = min(f.page, pages)
    rows = session.execute(
        statement.order_by(NluMiss.created_at.desc(), NluMiss.id.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    )
    return [MissRow(miss, ticket_id) for miss, ticket_id in rows], total, pages


# Rasa reads "[text](entity)" and "[text]{...}" in examples as entity annotations;
# user text must never be taken for markup, so square brackets become parentheses.
_BRACKETS = str.maketrans({"[": "(", "]": ")"})


def _example(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().translate(_BRACKETS)


def export_nlu(session: Session) -> str:
    """The marked messages as Rasa 3.x NLU training data (YAML, version "3.1")."""
    rows = session.execute(
        select(NluMiss.corrected_intent, NluMiss.text)
        .where(NluMiss.corrected_intent.is_not(None))
        .order_by(NluMiss.corrected_intent, NluMiss.id)
    )
    examples: dict[str, list[str]] = {}
    for intent, text in rows:
        example = _example(text)
        if example and example not in examples.setdefault(intent, []):
            examples[intent].append(example)
    nlu = [
        {"intent": intent, "examples": "".join(f"- {e}\n" for e in items)}
        for intent, items in examples.items()
        if items
    ]
    return yaml.dump(
        {"version": "3.1", "nlu": nlu},
        Dumper=_LiteralDumper,
        allow_unicode=True,
        sort_keys=False,
        width=1000,
    )


class _LiteralDumper(yaml.SafeDumper):
    """Multi-line strings as `|` blocks, the way Rasa's own files look."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _str)

"""Statistics for the service desk: volumes, outcomes of conversations, fallbacks.

Outcomes are four separate measures (`OUTCOMES`), never one flattering "solved
without a ticket": a conversation without a ticket may be one where the user gave up
after a wrong answer. Each counts conversations by its own definition, so they
overlap and do not add up to the whole.

Conversations come from Rasa's tracker store (table `events` at
RAKEL_TRACKER_DB_URL), read-only; everything else from our own tables. When the
tracker store is missing or unreadable the page says so and shows the rest.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Float, MetaData, String, Table, create_engine, func, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot.feedback import PROBABLY_WRONG_KINDS
from bot.models import Feedback, NluMiss, Ticket

log = logging.getLogger(__name__)

OSLO = ZoneInfo("Europe/Oslo")
PERIODS = (7, 30, 90)
FALLBACK_INTENT = "nlu_fallback"

# Only the columns we read of Rasa's SQLTrackerStore table.
_events = Table(
    "events",
    MetaData(),
    Column("sender_id", String),
    Column("type_name", String),
    Column("timestamp", Float),
    Column("intent_name", String),
)


def tracker_engine(url: str) -> Engine | None:
    """A read-only engine on the tracker store, or None if it does not exist (yet).

    SQLite is opened with mode=ro so we can never create or change Rasa's file.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return None
        path = Path(parsed.database)
        if not path.exists():
            return None
        return create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", future=True)
    return create_engine(
        url, future=True, pool_pre_ping=True, execution_options={"postgresql_readonly": True}
    )


@dataclass
class TrackerFigures:
    available: bool
    per_day: list[tuple[date, int]] = field(default_factory=list)
    conversations: set[str] = field(default_factory=set)
    # When each conversation's first message in the period came: its week.
    first_seen: dict[str, datetime] = field(default_factory=dict)
    user_messages: int = 0
    fallbacks: int = 0


def tracker_figures(engine: Engine | None, since: datetime, days: int) -> TrackerFigures:
    if engine is None:
        return TrackerFigures(available=False)
    statement = (
        select(_events.c.sender_id, _events.c.timestamp, _events.c.intent_name)
        .where(_events.c.type_name == "user")
        .where(_events.c.timestamp >= since.timestamp())
    )
    try:
        with engine.connect() as connection:
            rows = connection.execute(statement).all()
    except SQLAlchemyError as exc:
        log.warning("tracker store unreadable for statistics: %s", type(exc).__name__)
        return TrackerFigures(available=False)
    senders_per_day: dict[date, set[str]] = defaultdict(set)
    figures = TrackerFigures(available=True)
    for sender, timestamp, intent in rows:
        day = datetime.fromtimestamp(timestamp, tz=OSLO).date()
        senders_per_day[day].add(sender)
        figures.conversations.add(sender)
        when = datetime.fromtimestamp(timestamp, tz=OSLO)
        if sender not in figures.first_seen or when < figures.first_seen[sender]:
            figures.first_seen[sender] = when
        figures.user_messages += 1
        figures.fallbacks += intent == FALLBACK_INTENT
    first = since.astimezone(OSLO).date()
    figures.per_day = [
        (first + timedelta(days=i), len(senders_per_day[first + timedelta(days=i)]))
        for i in range(days)
    ]
    return figures


# The outcome measures, each a set of conversations (`outcome_sets`); the page's
# help text defines them in the same words.
OUTCOMES = ("confirmed_solved", "no_ticket_no_feedback", "probably_wrong", "handed_over")


def outcome_sets(session: Session, conversations: set[str], since: datetime) -> dict[str, set[str]]:
    """Which of `conversations` each outcome measure counts, from what happened since `since`:

    - confirmed_solved: the user answered "ja" to "Hjalp dette?" at least once;
    - no_ticket_no_feedback: no ticket and no answer to "Hjalp dette?" (ja or nei);
    - probably_wrong: at least one probably-wrong answer (bot.feedback.PROBABLY_WRONG_KINDS);
    - handed_over: a ticket was made for the service desk.
    """

    def of(statement: Select) -> set[str]:
        return {c for (c,) in session.execute(statement)} & conversations

    helped_yes = of(
        select(Feedback.conversation_id).where(Feedback.created_at >= since, Feedback.helped)
    )
    any_feedback = of(select(Feedback.conversation_id).where(Feedback.created_at >= since))
    wrong = of(
        select(NluMiss.conversation_id).where(
            NluMiss.created_at >= since, NluMiss.kind.in_(PROBABLY_WRONG_KINDS)
        )
    )
    tickets = of(select(Ticket.conversation_id).where(Ticket.created_at >= since))
    return {
        "confirmed_solved": helped_yes,
        "no_ticket_no_feedback": conversations - tickets - any_feedback,
        "probably_wrong": wrong,
        "handed_over": tickets,
    }


@dataclass(frozen=True)
class Outcomes:
    """The outcome measures over `conversations` conversations (one week, or the period)."""

    label: str  # "Uke 49, 2026"
    conversations: int
    counts: dict[str, int]
    short: str = ""  # "U49", under a chart's column

    def share(self, measure: str) -> float | None:
        return self.counts[measure] / self.conversations if self.conversations else None


def iso_week(when: datetime) -> tuple[int, int]:
    year, week, _ = when.astimezone(OSLO).isocalendar()
    return year, week


def outcomes(sets: dict[str, set[str]], tracker: TrackerFigures) -> tuple[Outcomes, list[Outcomes]]:
    """The measures for the whole period and per ISO week (oldest first, every week of
    the period, also those without conversations, so a trend shows its gaps); a
    conversation belongs to the week of its first message in the period."""
    total = Outcomes(
        "Hele perioden",
        len(tracker.conversations),
        {m: len(sets[m]) for m in OUTCOMES},
    )
    weeks: dict[tuple[int, int], set[str]] = {}
    for day, _ in tracker.per_day:
        weeks.setdefault(day.isocalendar()[:2], set())
    for conversation, when in tracker.first_seen.items():
        weeks.setdefault(iso_week(when), set())
        weeks[iso_week(when)].add(conversation)
    trend = [
        Outcomes(
            f"Uke {week}, {year}",
            len(members),
            {m: len(sets[m] & members) for m in OUTCOMES},
            short=f"U{week}",
        )
        for (year, week), members in sorted(weeks.items())
    ]
    return total, trend


@dataclass
class Statistics:
    days: int
    tracker: TrackerFigures
    tickets: int
    tickets_per_topic: list[tuple[str, int]]
    tickets_per_municipality: list[tuple[str, int]]
    outcomes: Outcomes | None  # the outcome measures over the period (tracker store needed)
    outcomes_per_week: list[Outcomes]
    fallback_rate: float | None  # share of user messages Rakel did not understand
    helped_yes: int
    helped_no: int
    misses_per_kind: dict[str, int]

    @property
    def helped_rate(self) -> float | None:
        total = self.helped_yes + self.helped_no
        return self.helped_yes / total if total else None


def collect(session: Session, tracker: TrackerFigures, since: datetime, days: int) -> Statistics:
    ticket_rows = session.execute(
        select(Ticket.category, Ticket.municipality, Ticket.conversation_id).where(
            Ticket.created_at >= since
        )
    ).all()
    topics = Counter(category for category, _, _ in ticket_rows)
    municipalities = Counter(m or "ukjent" for _, m, _ in ticket_rows)
    helped = dict(
        session.execute(
            select(Feedback.helped, func.count(Feedback.id))
            .where(Feedback.created_at >= since)
            .group_by(Feedback.helped)
        ).all()
    )
    misses = dict(
        session.execute(
            select(NluMiss.kind, func.count(NluMiss.id))
            .where(NluMiss.created_at >= since)
            .group_by(NluMiss.kind)
        ).all()
    )
    fallback_rate = None
    total: Outcomes | None = None
    per_week: list[Outcomes] = []
    if tracker.available:
        total, per_week = outcomes(outcome_sets(session, tracker.conversations, since), tracker)
    if tracker.available and tracker.user_messages:
        fallback_rate = tracker.fallbacks / tracker.user_messages
    return Statistics(
        days=days,
        tracker=tracker,
        tickets=len(ticket_rows),
        tickets_per_topic=topics.most_common(),
        tickets_per_municipality=sorted(municipalities.items(), key=lambda kv: (-kv[1], kv[0])),
        outcomes=total,
        outcomes_per_week=per_week,
        fallback_rate=fallback_rate,
        helped_yes=helped.get(True, 0),
        helped_no=helped.get(False, 0),
        misses_per_kind=misses,
    )


def period_start(days: int, now: datetime | None = None) -> datetime:
    """Midnight in Oslo, `days - 1` days ago: the period includes today."""
    now = (now or datetime.now(timezone.utc)).astimezone(OSLO)
    start = datetime.combine(
        now.date() - timedelta(days=days - 1), datetime.min.time(), tzinfo=OSLO
    )
    return start.astimezone(timezone.utc)

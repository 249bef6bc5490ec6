"""Delete everything personal older than RAKEL_RETENTION_DAYS.

What goes, by age:
- Rasa conversation events (user texts, and any metadata a client sent with them);
- closed tickets (with notes, audit and outbox rows), by last change;
- "Hjalp dette?" answers (`feedback`) and missed messages (`nlu_misses`): both are
  keyed by conversation id and the latter holds the user's text;
- Teams conversation references not used for RAKEL_RETENTION_DAYS, except those of
  requesters with an open ticket or a message not yet sent: Rakel needs them to tell
  the user the case is solved;
- messages Rakel owed requesters (`user_messages`: sent, or never fetched by a widget
  user), and the records of which conversations an outage notice was told in
  (`notice_shown`, keyed by a digest of the conversation id);
- failed staff logins kept for throttling (a username and a client address).

Why 90 days by default: long enough for the service desk to follow a case up (a user
may come back weeks later, a solved case may reopen) and for quarterly statistics;
short enough that Rakel keeps personal data no longer than that purpose needs
(GDPR art. 5(1)(c) and (e): data minimisation and storage limitation). Open tickets
are never deleted, whatever their age: the case is not finished.

Run by the worker every RAKEL_RETENTION_INTERVAL_SECONDS, or once with
`python -m bot.cli retention`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, inspect, select, text
from sqlalchemy.orm import Session

from bot.db import Database, make_engine
from bot.models import (
    Feedback,
    LoginFailure,
    NluMiss,
    NoticeShown,
    TeamsConversationReference,
    Ticket,
    UserMessage,
    utcnow,
)
from bot.person_data import parse_identity
from bot.settings import Settings
from bot.tickets.repository import CLOSED_STATUSES

log = logging.getLogger(__name__)

# Rasa's SQLTrackerStore table: one row per event, `timestamp` in epoch seconds.
TRACKER_EVENTS_TABLE = "events"


@dataclass(frozen=True)
class RetentionResult:
    cutoff: datetime
    tracker_events: int
    tickets: int
    feedback: int = 0
    nlu_misses: int = 0
    teams_references: int = 0
    login_failures: int = 0
    user_messages: int = 0
    notice_shown: int = 0


def cutoff_for(retention_days: int, now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=retention_days)


def purge_closed_tickets(database: Database, cutoff: datetime) -> int:
    """Closed tickets untouched since the cutoff, with notes, audit and outbox rows
    (ON DELETE CASCADE)."""

    def work(session: Session) -> int:
        result = session.execute(
            delete(Ticket)
            .where(Ticket.status.in_(CLOSED_STATUSES), Ticket.updated_at < cutoff)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0

    return database.run(work)


def purge_feedback_and_misses(database: Database, cutoff: datetime) -> tuple[int, int]:
    """Feedback and missed messages older than the cutoff. The statistics page looks
    back at most 90 days (bot/web/stats.py PERIODS), so the default loses nothing."""

    def work(session: Session) -> tuple[int, int]:
        counts = []
        for model in (Feedback, NluMiss):
            result = session.execute(
                delete(model)
                .where(model.created_at < cutoff)
                .execution_options(synchronize_session=False)
            )
            counts.append(result.rowcount or 0)
        return counts[0], counts[1]

    return database.run(work)


def purge_login_failures(database: Database, cutoff: datetime) -> int:
    """Failed staff logins (username and client address). The throttle deletes rows
    past its 15-minute window only when a new failure arrives; the last ones would
    otherwise stay for good."""

    def work(session: Session) -> int:
        result = session.execute(
            delete(LoginFailure)
            .where(LoginFailure.at < cutoff)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0

    return database.run(work)


def purge_user_messages_and_notice_shown(database: Database, cutoff: datetime) -> tuple[int, int]:
    """Messages to requesters written before the cutoff (a widget user who has not come
    back in that time is not told any more), and notice tellings older than it. The
    statistics page looks back at most 90 days, like for feedback."""

    def work(session: Session) -> tuple[int, int]:
        counts = []
        for model, column in (
            (UserMessage, UserMessage.created_at),
            (NoticeShown, NoticeShown.shown_at),
        ):
            result = session.execute(
                delete(model).where(column < cutoff).execution_options(synchronize_session=False)
            )
            counts.append(result.rowcount or 0)
        return counts[0], counts[1]

    return database.run(work)


def purge_teams_references(database: Database, cutoff: datetime) -> int:
    """References not refreshed since the cutoff (every message refreshes them), unless
    their user has an open ticket or an unsent message and may still be told."""

    def work(session: Session) -> int:
        requesters = [
            *session.scalars(
                select(Ticket.requester_id).where(Ticket.status.not_in(CLOSED_STATUSES))
            ),
            *session.scalars(
                select(UserMessage.recipient_id).where(UserMessage.delivered_at.is_(None))
            ),
        ]
        # Tickets hold "teams:<aad id>" (or the raw id on older rows).
        keep = {parse_identity(r)[1] for r in requesters}
        stale = session.scalars(
            select(TeamsConversationReference).where(TeamsConversationReference.updated_at < cutoff)
        ).all()
        # References hold "teams:<id>" since ids were namespaced (raw on older rows):
        # compared raw like the tickets', or no namespaced reference would ever be kept.
        doomed = [
            r.id
            for r in stale
            if not ({parse_identity(i)[1] for i in (r.aad_object_id, r.user_id) if i} & keep)
        ]
        if doomed:
            session.execute(
                delete(TeamsConversationReference)
                .where(TeamsConversationReference.id.in_(doomed))
                .execution_options(synchronize_session=False)
            )
        return len(doomed)

    return database.run(work)


def purge_tracker_events(tracker_db_url: str, cutoff: datetime) -> int:
    """Delete events by age. Safe for live conversations: Rasa only reads and counts
    events of a conversation's latest session (sessions expire after 60 idle minutes),
    which are never 90 days old."""
    engine = make_engine(tracker_db_url)
    try:
        if not inspect(engine).has_table(TRACKER_EVENTS_TABLE):
            return 0  # Rasa has not stored anything yet
        with engine.begin() as connection:
            result = connection.execute(
                text(f"DELETE FROM {TRACKER_EVENTS_TABLE} WHERE timestamp < :cutoff"),  # noqa: S608 - constant table name
                {"cutoff": cutoff.timestamp()},
            )
            return result.rowcount or 0
    finally:
        engine.dispose()


def run_retention(
    settings: Settings, database: Database | None = None, now: datetime | None = None
) -> RetentionResult:
    cutoff = cutoff_for(settings.retention_days, now)
    own = database or Database(settings.db_url)
    try:
        tickets = purge_closed_tickets(own, cutoff)
        feedback, misses = purge_feedback_and_misses(own, cutoff)
        messages, shown = purge_user_messages_and_notice_shown(own, cutoff)
        references = purge_teams_references(own, cutoff)
        login_failures = purge_login_failures(own, cutoff)
    finally:
        if database is None:
            own.dispose()
    events = purge_tracker_events(settings.tracker_db_url, cutoff)
    log.info(
        "retention (%s days, before %s): deleted %d tracker events, %d closed tickets, "
        "%d feedback rows, %d missed messages, %d Teams references, %d failed logins, "
        "%d messages to requesters, %d notice tellings",
        settings.retention_days,
        cutoff.isoformat(),
        events,
        tickets,
        feedback,
        misses,
        references,
        login_failures,
        messages,
        shown,
    )
    return RetentionResult(
        cutoff=cutoff,
        tracker_events=events,
        tickets=tickets,
        feedback=feedback,
        nlu_misses=misses,
        teams_references=references,
        login_failures=login_failures,
        user_messages=messages,
        notice_shown=shown,
    )

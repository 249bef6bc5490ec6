"""The statistics' four outcome measures, from a real Rasa tracker store and our tables:
each counts exactly the conversations its definition names, in total and per ISO week."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.models import Feedback
from bot.web import stats
from bot.web.app import create_app
from tests.review.conftest import database, settings  # noqa: F401 - fixtures
from tests.review.test_review_data import write_tracker_events
from tests.support.staff import ADMIN, ADMIN_PASSWORD, csrf_from, make_miss, make_ticket

NOW = datetime.now(timezone.utc)
EARLIER = NOW - timedelta(days=14)  # two ISO weeks before: a row of its own


async def known_conversations(settings, database) -> None:  # noqa: F811
    t, e = NOW.timestamp(), EARLIER.timestamp()
    await write_tracker_events(
        settings.tracker_db_url,
        {
            # "ja" to "Hjalp dette?": confirmed solved, nothing else.
            "solved": [("faq", t), ("affirm", t + 5)],
            # An answer and silence: ended without a ticket and without feedback.
            "silent": [("faq", t)],
            # Rephrased after an article and left: probably wrong, and also silent.
            "rephrased": [("faq", t), ("faq", t + 30)],
            # "nei", then a ticket: probably wrong and handed over, not silent.
            "nei-ticket": [("faq", t), ("deny", t + 5), ("request_human", t + 9)],
            # Straight to a person: handed over.
            "ticket": [("request_human", t)],
            # Not understood, nothing else: a fallback is not a wrong answer.
            "fallback": [("nlu_fallback", t)],
            # Two weeks ago: "ja" after "nei" to the first answer.
            "earlier": [("faq", e), ("deny", e + 5), ("affirm", e + 20)],
            # Outside the 30-day period: not counted at all.
            "old": [("faq", (NOW - timedelta(days=60)).timestamp())],
        },
    )
    make_miss(database, "dele skjerm", kind="rephrased", conversation_id="rephrased")
    make_miss(database, "lyd i teams", kind="not_helped", conversation_id="nei-ticket")
    make_miss(database, "blorp", kind="fallback", conversation_id="fallback")
    make_miss(database, "passord", kind="not_helped", conversation_id="earlier")
    make_miss(database, "kamera", kind="none_fit", conversation_id="old")
    make_ticket(database, conversation_id="nei-ticket")
    make_ticket(database, conversation_id="ticket")
    make_ticket(database, conversation_id="not-in-the-tracker-store")
    database.run(
        lambda s: s.add_all(
            [
                Feedback(conversation_id="solved", helped=True),
                Feedback(conversation_id="nei-ticket", helped=False),
                Feedback(conversation_id="earlier", helped=False),
                Feedback(conversation_id="earlier", helped=True),
                Feedback(conversation_id="old", helped=True),
            ]
        )
    )


def figures(settings, database):  # noqa: F811
    engine = stats.tracker_engine(settings.tracker_db_url)
    since = stats.period_start(30)
    try:
        tracker = stats.tracker_figures(engine, since, 30)
        return database.run(lambda s: stats.collect(s, tracker, since, 30)), database.run(
            lambda s: stats.outcome_sets(s, tracker.conversations, since)
        )
    finally:
        engine.dispose()


async def test_each_measure_counts_the_conversations_its_definition_names(settings, database):  # noqa: F811
    await known_conversations(settings, database)
    s, sets = figures(settings, database)
    assert sets == {
        "confirmed_solved": {"solved", "earlier"},
        "no_ticket_no_feedback": {"silent", "rephrased", "fallback"},
        "probably_wrong": {"rephrased", "nei-ticket", "earlier"},
        "handed_over": {"nei-ticket", "ticket"},
    }
    assert s.outcomes.conversations == 7
    assert s.outcomes.counts == {m: len(v) for m, v in sets.items()}
    assert s.outcomes.share("confirmed_solved") == pytest.approx(2 / 7)
    # Per ISO week: every week of the period, oldest first, the empty ones too ...
    early, late = stats.iso_week(EARLIER), stats.iso_week(NOW)
    first = stats.period_start(30).astimezone(stats.OSLO).date()
    days = [first + timedelta(days=i) for i in range(30)]
    weeks = list(dict.fromkeys(d.isocalendar()[:2] for d in days))
    assert [w.label for w in s.outcomes_per_week] == [f"Uke {w}, {y}" for y, w in weeks]
    assert sum(w.conversations for w in s.outcomes_per_week) == 7
    # ... and the earlier conversation in its own row.
    assert [
        (w.label, w.conversations, w.counts) for w in s.outcomes_per_week if w.conversations
    ] == [
        (
            f"Uke {early[1]}, {early[0]}",
            1,
            {
                "confirmed_solved": 1,
                "no_ticket_no_feedback": 0,
                "probably_wrong": 1,
                "handed_over": 0,
            },
        ),
        (
            f"Uke {late[1]}, {late[0]}",
            6,
            {
                "confirmed_solved": 1,
                "no_ticket_no_feedback": 3,
                "probably_wrong": 2,
                "handed_over": 2,
            },
        ),
    ]


async def test_the_page_shows_and_defines_the_four_measures_not_solved_without_ticket(
    settings,  # noqa: F811
    database,  # noqa: F811
):
    await known_conversations(settings, database)
    async with TestClient(TestServer(create_app(settings))) as client:
        page = await client.get("/login")
        await client.post(
            "/login",
            data={
                "csrf_token": csrf_from(await page.text()),
                "username": ADMIN,
                "password": ADMIN_PASSWORD,
            },
        )
        html = await (await client.get("/staff/stats")).text()
    assert "Løst uten sak" not in html
    assert 'id="kpi-confirmed_solved">29 %<' in html  # 2 of 7
    assert 'id="kpi-no_ticket_no_feedback">43 %<' in html  # 3 of 7
    assert 'id="kpi-probably_wrong">43 %<' in html
    assert 'id="kpi-handed_over">29 %<' in html
    for definition in (
        "svarte «ja» på «Hjalp dette?» minst én gang",
        "endte uten sak og uten svar på «Hjalp dette?»",
        "valgte «Ingen av disse»",
        "endte med en sak til servicedesken",
    ):
        assert definition in html
    assert "Hvordan samtalene endte, per uke" in html
    assert html.count('class="svg-chart"') >= 4

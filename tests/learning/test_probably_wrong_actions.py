"""Probably-wrong answers are recorded by the action that runs at the next turn."""

from __future__ import annotations

import uuid

from rasa_sdk.executor import CollectingDispatcher

from bot.actions.fallback import ActionNoneFit
from bot.actions.knowledge import ActionAnswerArticle
from bot.actions.probably_wrong import REPHRASE_WINDOW
from bot.actions.tickets import ActionPrepareTicket
from bot.models import NluMiss
from tests.actions.conftest import database, domain  # noqa: F401 - fixtures
from tests.support.trackers import parse_data, tracker

T0 = 1_780_000_000.0
QUESTION = "hvordan deler jeg skjermen, ring meg på 912 34 567"


def answered(text: str, article: str, at: float = T0, *, needs_person: bool = False) -> list:
    """Tracker events of a question Rakel answered with `article` at `at`."""
    return [
        {
            "event": "user",
            "text": text,
            "timestamp": at,
            "parse_data": parse_data(text, "faq", 0.9, article=article),
            "input_channel": "rest",
            "message_id": uuid.uuid4().hex,
        },
        {"event": "action", "name": "action_answer_article", "timestamp": at + 0.1},
        {"event": "bot", "text": "Svaret …", "timestamp": at + 0.2},
        {"event": "slot", "name": "last_article", "value": article, "timestamp": at + 0.2},
        {
            "event": "slot",
            "name": "article_needs_person",
            "value": needs_person,
            "timestamp": at + 0.2,
        },
        {"event": "action", "name": "utter_ask_helped", "timestamp": at + 0.3},
        {"event": "bot", "text": "Hjalp dette?", "timestamp": at + 0.3},
    ]


def next_message(message: dict, history: list, at: float, **kwargs):
    t = tracker(message, history=history, **kwargs)
    t.events[-1]["timestamp"] = at
    return t


async def run(action, tracker_, domain):  # noqa: F811 - the fixture's value
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, tracker_, domain)
    return dispatcher.messages


def misses(database):  # noqa: F811
    return database.run(
        lambda s: [
            (m.kind, m.text, m.answered, m.followed_by, m.conversation_id)
            for m in s.query(NluMiss).order_by(NluMiss.id)
        ]
    )


async def test_a_different_article_within_two_minutes_records_the_first_as_rephrased(
    database,  # noqa: F811
    domain,  # noqa: F811
):
    history = answered(QUESTION, "teams_screen_share")
    rephrase = parse_data("dele skjerm i teams møte", "faq", article="teams_breakout_rooms")
    await run(ActionAnswerArticle(), next_message(rephrase, history, T0 + 60), domain)
    # The question that got the wrong answer, masked, with what followed.
    assert misses(database) == [
        (
            "rephrased",
            "hvordan deler jeg skjermen, ring meg på [telefonnummer fjernet]",
            "teams_screen_share",
            "dele skjerm i teams møte",
            "anon:rest:user-1",
        )
    ]


async def test_a_mente_du_after_an_article_records_it_as_rephrased(database, domain):  # noqa: F811
    history = answered(QUESTION, "teams_screen_share")
    unclear = parse_data(
        "nei altså skjermdeling",
        "nlu_fallback",
        0.4,
        ranking=[("teams_breakout_rooms", 0.25), ("teams_camera_sound", 0.22)],
    )
    await run(ActionAnswerArticle(), next_message(unclear, history, T0 + 30), domain)
    assert [m[:3] for m in misses(database)] == [
        (
            "rephrased",
            QUESTION.replace("912 34 567", "[telefonnummer fjernet]"),
            "teams_screen_share",
        )
    ]


async def test_nei_before_the_same_article_counts_as_rephrased(database, domain):  # noqa: F811
    history = answered("skjermdeling", "teams_screen_share")
    again = parse_data("ikke det, dele skjermen", "faq", article="teams_screen_share")
    await run(ActionAnswerArticle(), next_message(again, history, T0 + 10), domain)
    assert [m[0] for m in misses(database)] == ["rephrased"]


async def test_a_later_new_question_or_the_same_article_is_not_a_rephrase(database, domain):  # noqa: F811
    history = answered("skjermdeling", "teams_screen_share")
    later = parse_data("hvordan lager jeg et team", "faq", article="teams_create_team")
    await run(ActionAnswerArticle(), next_message(later, history, T0 + REPHRASE_WINDOW + 5), domain)
    same = parse_data("skjermdeling i teams", "faq", article="teams_screen_share")
    await run(ActionAnswerArticle(), next_message(same, history, T0 + 20), domain)
    assert misses(database) == []


async def test_a_follow_up_placed_in_the_topic_is_not_a_rephrase(database, domain):  # noqa: F811
    history = answered("lyden virker ikke i teams", "teams_camera_sound")
    follow_up = parse_data(
        "og skjermen?",
        "faq",
        ranking=[("teams_screen_share", 0.5), ("pc_order", 0.1)],
    )
    t = next_message(follow_up, history, T0 + 20, slots={"current_topic": "teams"})
    await run(ActionAnswerArticle(), t, domain)
    assert misses(database) == []


async def test_asking_for_a_person_right_after_an_article_is_recorded(database, domain):  # noqa: F811
    history = answered(QUESTION, "teams_screen_share")
    person = parse_data("jeg vil snakke med et menneske", "request_human")
    await run(ActionPrepareTicket(), next_message(person, history, T0 + 400), domain)
    assert [m[:4] for m in misses(database)] == [
        (
            "asked_for_person",
            QUESTION.replace("912 34 567", "[telefonnummer fjernet]"),
            "teams_screen_share",
            "jeg vil snakke med et menneske",
        )
    ]


async def test_a_person_after_an_article_that_sends_to_the_desk_is_not_recorded(
    database,  # noqa: F811
    domain,  # noqa: F811
):
    history = answered("pc-en min er ødelagt", "pc_broken", needs_person=True)
    person = parse_data("snakke med noen", "request_human")
    await run(ActionPrepareTicket(), next_message(person, history, T0 + 5), domain)
    # Nor a person asked for with no article before.
    fresh = parse_data("snakke med noen", "request_human")
    await run(ActionPrepareTicket(), tracker(fresh), domain)
    assert misses(database) == []


async def test_none_of_these_records_the_question_and_the_suggestions(database, domain):  # noqa: F811
    question = {
        "event": "user",
        "text": "skjerm greier",
        "timestamp": T0,
        "parse_data": parse_data("skjerm greier", "nlu_fallback", 0.3),
        "input_channel": "rest",
        "message_id": uuid.uuid4().hex,
    }
    none = parse_data("/deny", "deny")
    t = next_message(
        none,
        [question],
        T0 + 5,
        slots={"next_best": ["teams_screen_share", "teams_camera_sound"]},
    )
    messages = await run(ActionNoneFit(), t, domain)
    assert [m["response"] for m in messages] == ["utter_none_fit"]
    assert misses(database) == [
        (
            "none_fit",
            "skjerm greier",
            "teams_screen_share,teams_camera_sound",
            None,
            "anon:rest:user-1",
        )
    ]
    # A retried action call (same message id) adds nothing.
    await run(ActionNoneFit(), t, domain)
    assert len(misses(database)) == 1

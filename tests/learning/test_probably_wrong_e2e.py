"""Probably-wrong answers over the REST channel, against the real processes: each kind
of capture leaves one row with the question, what Rakel answered and the conversation."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing

import pytest

from tests.test_handoff_e2e import text
from tests.test_honest_replies_e2e import AMBIGUOUS, CLEAR

pytestmark = pytest.mark.e2e

# Another article's question, right after the answer to CLEAR. (A short message such as
# AMBIGUOUS would be a follow-up within the answer's topic, which is not a rephrase.)
REPHRASE = "kameraet virker ikke i teams"


def misses_of(rakel, conversation_id: str) -> list[tuple]:
    with closing(sqlite3.connect(rakel.var_dir / "rakel.db")) as connection:
        return connection.execute(
            "SELECT kind, text, answered FROM nlu_misses WHERE conversation_id = ? "
            "AND kind IN ('asked_for_person', 'rephrased', 'none_fit') ORDER BY id",
            (conversation_id,),
        ).fetchall()


def answer(user) -> str:
    """Ask the clear question; the article Rakel answered with."""
    assert user.say(CLEAR)[-1]["text"] == text("utter_ask_helped")
    return user.tracker()["slots"]["last_article"]


def test_asking_for_a_person_right_after_an_article(rakel, user):
    article = answer(user)
    assert text("utter_ticket_intro") in user.texts("/request_human")
    assert misses_of(rakel, user.conversation_id) == [("asked_for_person", CLEAR, article)]


def test_a_rephrase_that_gets_another_article(rakel, user):
    article = answer(user)
    assert user.say(REPHRASE)[-1]["text"] == text("utter_ask_helped")
    assert user.tracker()["slots"]["last_article"] != article
    assert misses_of(rakel, user.conversation_id) == [("rephrased", CLEAR, article)]


def test_none_of_these_to_did_you_mean(rakel, user):
    buttons = user.say(AMBIGUOUS)[0]["buttons"]
    suggested = [json.loads(b["payload"].removeprefix("/faq"))["article_id"] for b in buttons[:-1]]
    assert user.texts("/deny") == [text("utter_none_fit"), text("utter_offer_ticket")]
    assert misses_of(rakel, user.conversation_id) == [("none_fit", AMBIGUOUS, ",".join(suggested))]

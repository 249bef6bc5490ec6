"""Right or honest, over the REST channel against the real processes: a clear question
is answered, close ones get "Mente du …?", other IT gets an honest reply and an annet-IT
ticket, HR questions go to the leader or HR."""

from __future__ import annotations

import json

import pytest

from tests.test_handoff_e2e import answer_rest_of_form, created_id, text, ticket_row

pytestmark = pytest.mark.e2e

# Worded unlike the training examples; the evaluation (make eval) measures the NLU at
# large, these pin down what the user sees for each kind of reply.
CLEAR = "hvordan kan jeg dele skjermen min når jeg er i et teamsmøte?"
AMBIGUOUS = "kode på mobil"
OTHER_IT = "skriveren i andre etasje har papirstopp og blinker rødt"
HR = "får jeg betalt overtid hvis teamsmøtet varer etter arbeidstid?"


def test_a_clear_question_is_answered_without_did_you_mean(user):
    messages = user.say(CLEAR)
    assert messages[-1]["text"] == text("utter_ask_helped")
    assert text("utter_did_you_mean") not in [m.get("text") for m in messages]


def test_close_articles_get_did_you_mean_with_their_titles_as_buttons(user):
    messages = user.say(AMBIGUOUS)
    assert [m["text"] for m in messages] == [text("utter_did_you_mean")]
    buttons = messages[0]["buttons"]
    assert 2 <= len(buttons) <= 4
    assert buttons[-1] == {"title": "Ingen av disse", "payload": "/deny"}
    chosen = json.loads(buttons[0]["payload"].removeprefix("/faq"))["article_id"]
    # A button answers its article.
    reply = user.say(buttons[0]["payload"])
    assert reply[-1]["text"] in (text("utter_ask_helped"), text("utter_offer_ticket"))
    assert user.tracker()["slots"]["last_article"] == chosen


def test_none_of_these_gets_an_honest_reply_and_a_ticket_offer(user):
    user.say(AMBIGUOUS)
    assert user.texts("/deny") == [text("utter_none_fit"), text("utter_offer_ticket")]


def test_other_it_gets_the_honest_reply_and_an_annet_it_ticket(rakel, user):
    assert user.texts(OTHER_IT) == [text("utter_other_it"), text("utter_offer_ticket")]
    # The question is known: the form goes straight to the municipality.
    assert user.texts("/affirm") == [
        text("utter_ticket_intro"),
        text("utter_ask_ticket_municipality"),
    ]
    answer_rest_of_form(user)
    row = ticket_row(rakel, created_id(user.texts("/affirm")))
    assert (row["category"], row["description"]) == ("annet_it", OTHER_IT)


def test_an_hr_question_gets_the_pointer_to_the_leader_or_hr(user):
    assert user.texts(HR) == [text("utter_out_of_scope_hr")]

"""action_clarify (two-stage fallback) and action_out_of_scope with real trackers."""

from __future__ import annotations

import json

from rasa_sdk.executor import CollectingDispatcher

from bot.actions import services
from bot.actions.decision import THRESHOLDS
from bot.actions.fallback import ActionClarify, ActionOutOfScope
from bot.models import NluMiss
from tests.support.trackers import parse_data, tracker


async def run(action, tracker_, domain):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker_, domain)
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def unclear(text="teams mobil greie"):
    close = THRESHOLDS.suggest_confidence
    message = parse_data(
        text,
        "nlu_fallback",
        0.4,
        ranking=[
            ("teams_mobile", close + 0.05),
            ("teams_mobile_switchboard", close + 0.03),
            ("mfa_new_phone", close + 0.01),
            ("pc_order", close - 0.05),
        ],
    )
    message["intent_ranking"].append({"name": "faq", "confidence": 0.38})
    return message


async def test_first_unclear_message_suggests_the_likeliest_articles(database, domain):
    messages, slots = await run(ActionClarify(), tracker(unclear()), domain)
    knowledge = services.knowledge()
    assert messages[0]["response"] == "utter_did_you_mean"
    buttons = messages[0]["buttons"]
    expected = ["teams_mobile", "teams_mobile_switchboard", "mfa_new_phone"]
    assert [b["title"] for b in buttons[:-1]] == [knowledge.get(a).title for a in expected]
    assert [json.loads(b["payload"][len("/faq") :])["article_id"] for b in buttons[:-1]] == expected
    assert buttons[-1] == {"title": "Ingen av disse", "payload": "/deny"}
    # The suggestions are the next-best if the one picked does not help.
    assert slots == {
        "fallback_count": 1,
        "clarify_exhausted": False,
        "article_needs_person": None,
        "next_best": expected,
        "next_best_offered": False,
    }
    miss = database.run(lambda s: s.query(NluMiss).one())
    assert (miss.kind, miss.text, miss.predicted_intent) == (
        "fallback",
        "teams mobil greie",
        "faq/teams_mobile",
    )


async def test_second_unclear_message_in_a_row_gives_up_on_guessing(database, domain):
    messages, slots = await run(
        ActionClarify(), tracker(unclear("hmm"), slots={"fallback_count": 1}), domain
    )
    assert [m["response"] for m in messages] == ["utter_still_unclear"]
    assert slots == {"fallback_count": 0, "clarify_exhausted": True, "article_needs_person": None}
    assert database.run(lambda s: s.query(NluMiss).count()) == 1


async def test_no_candidates_says_so_and_hands_over_to_the_ticket_offer(database, domain):
    message = parse_data("xyzzy", "nlu_fallback", 0.2)
    messages, slots = await run(ActionClarify(), tracker(message), domain)
    assert [m["response"] for m in messages] == ["utter_unsure"]
    # clarify_exhausted: the rule that follows offers a ticket.
    assert slots["clarify_exhausted"] is True


async def test_only_distant_candidates_are_not_suggested(database, domain):
    close = THRESHOLDS.suggest_confidence
    message = parse_data(
        "noe helt annet",
        "nlu_fallback",
        0.3,
        ranking=[("teams_tips", close - 0.01), ("pc_order", close - 0.02)],
    )
    messages, slots = await run(ActionClarify(), tracker(message), domain)
    assert [m["response"] for m in messages] == ["utter_unsure"]
    assert slots["clarify_exhausted"] is True


async def test_out_of_scope_is_answered_and_recorded(database, domain):
    message = parse_data("hva blir været i molde", "out_of_scope", 0.97)
    messages, _ = await run(ActionOutOfScope(), tracker(message), domain)
    assert [m["response"] for m in messages] == ["utter_out_of_scope"]
    miss = database.run(lambda s: s.query(NluMiss).one())
    assert (miss.kind, miss.text, miss.predicted_intent) == (
        "out_of_scope",
        "hva blir været i molde",
        "out_of_scope",
    )


async def test_a_resent_fallback_call_records_the_message_once(database, domain):
    message = parse_data("hva blir været i molde", "out_of_scope", 0.97)
    resent = tracker(message, message_id="c" * 32)
    for _ in range(2):
        messages, _ = await run(ActionOutOfScope(), resent, domain)
        assert [m["response"] for m in messages] == ["utter_out_of_scope"]
    await run(ActionClarify(), tracker(unclear(), message_id="c" * 32), domain)
    # One row per message and kind: the resend adds nothing, another kind is its own.
    rows = database.run(lambda s: sorted((m.kind, m.message_id) for m in s.query(NluMiss)))
    assert rows == [("fallback", "c" * 32), ("out_of_scope", "c" * 32)]

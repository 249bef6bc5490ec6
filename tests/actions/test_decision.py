"""The one decision between answering, "Mente du …?" and an honest "not sure"."""

from __future__ import annotations

import pytest

from bot.actions.decision import THRESHOLDS, Decision, decide
from tests.support.trackers import parse_data

ANSWER_CONFIDENCE = THRESHOLDS.answer_confidence
ANSWER_MARGIN = THRESHOLDS.answer_margin
SUGGEST = THRESHOLDS.suggest_confidence


def faq(ranking, intent_confidence=0.95, intent="faq"):
    return parse_data("spørsmål", intent, intent_confidence, ranking=ranking)


def test_a_clear_winner_is_answered():
    ranking = [("mfa_setup_app", ANSWER_CONFIDENCE + 0.05), ("mfa_new_phone", SUGGEST - 0.1)]
    assert decide(faq(ranking)) == Decision("answer", ("mfa_setup_app",))


@pytest.mark.parametrize(
    "ranking",
    [
        # confident, but the runner-up is too close: a coin toss between two answers
        [
            ("teams_mobile", ANSWER_CONFIDENCE + 0.01),
            ("teams_not_starting", ANSWER_CONFIDENCE + 0.01 - ANSWER_MARGIN / 2),
            ("mfa_new_phone", SUGGEST - 0.1),
        ],
        # nothing confident enough on its own
        [("teams_mobile", ANSWER_CONFIDENCE - 0.001), ("pc_order", SUGGEST - 0.1)],
    ],
)
def test_close_articles_are_offered_as_did_you_mean(ranking):
    decision = decide(faq(ranking))
    assert decision.outcome == "clarify"
    assert decision.article is None
    assert decision.articles[0] == ranking[0][0]
    assert len(decision.articles) <= 3


def test_the_margin_is_what_separates_an_answer_from_a_question():
    best = ANSWER_CONFIDENCE + 0.03
    clear = decide(faq([("a", best), ("b", best - ANSWER_MARGIN - 0.01)]))
    close = decide(faq([("a", best), ("b", best - ANSWER_MARGIN + 0.01)]))
    assert (clear.outcome, close.outcome) == ("answer", "clarify")


def test_nothing_close_is_unsure():
    assert decide(faq([("teams_tips", SUGGEST - 0.01), ("pc_order", SUGGEST - 0.02)])).outcome == (
        "unsure"
    )
    assert decide(parse_data("hei", "faq", 0.9)).outcome == "unsure"


def test_a_fallback_or_unsure_intent_is_never_answered_directly():
    ranking = [("mfa_setup_app", ANSWER_CONFIDENCE + 0.05), ("mfa_new_phone", SUGGEST - 0.1)]
    assert decide(faq(ranking), may_answer=False).outcome == "clarify"
    assert decide(faq(ranking, intent_confidence=0.3)).outcome == "clarify"

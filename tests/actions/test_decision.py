"""The one decision between answering, "Mente du …?" and an honest "not sure"."""

from __future__ import annotations

import pytest

from bot.actions.decision import THRESHOLDS, Decision, decide
from tests.support.trackers import parse_data

ANSWER_MARGIN = THRESHOLDS.answer_margin
SUGGEST = THRESHOLDS.suggest_confidence
# Above the suggestion threshold too, so that a second article below it is possible.
ANSWER_CONFIDENCE = max(THRESHOLDS.answer_confidence, SUGGEST + 0.02)


def faq(ranking, intent_confidence=0.95, intent="faq", others=()):
    """A parse with an article ranking and, optionally, other intents' probabilities."""
    parse = parse_data("spørsmål", intent, intent_confidence, ranking=ranking)
    parse["intent_ranking"] += [{"name": name, "confidence": p} for name, p in others]
    return parse


def test_a_clear_winner_is_answered():
    ranking = [("mfa_setup_app", ANSWER_CONFIDENCE + 0.05), ("mfa_new_phone", SUGGEST - 0.1)]
    assert decide(faq(ranking)) == Decision("answer", ("mfa_setup_app",))


@pytest.mark.parametrize(
    ("ranking", "others"),
    [
        # confident, but another kind of reply (other IT) is about as likely: a coin toss
        (
            [("teams_mobile", ANSWER_CONFIDENCE + 0.01), ("mfa_new_phone", SUGGEST + 0.01)],
            [("other_it", ANSWER_CONFIDENCE + 0.01 - ANSWER_MARGIN + 0.005)],
        ),
        # two articles, and HR a hair more likely than either
        (
            [("home_equipment", ANSWER_CONFIDENCE), ("pc_order", ANSWER_CONFIDENCE - 0.01)],
            [("out_of_scope_hr", ANSWER_CONFIDENCE + 0.001)],
        ),
    ],
)
def test_close_replies_are_offered_as_did_you_mean(ranking, others):
    decision = decide(faq(ranking, others=others))
    assert decision.outcome == "clarify"
    assert decision.article is None
    assert decision.articles[0] == ranking[0][0]
    assert len(decision.articles) <= 3


def test_the_margin_to_the_runner_up_separates_an_answer_from_a_question():
    best = ANSWER_CONFIDENCE + 0.03
    ranking = [("a", best), ("b", SUGGEST)]
    clear = decide(faq(ranking, others=[("out_of_scope_hr", best - ANSWER_MARGIN - 0.01)]))
    close = decide(faq(ranking, others=[("out_of_scope_hr", best - ANSWER_MARGIN + 0.01)]))
    assert (clear.outcome, close.outcome) == ("answer", "clarify")
    if ANSWER_MARGIN > 0.01:
        # the second article counts as a runner-up just as another intent does
        second = decide(faq([("a", best), ("b", best - ANSWER_MARGIN + 0.01)]))
        assert second.outcome == "clarify"


def test_nothing_close_is_unsure():
    low = min(THRESHOLDS.answer_confidence, SUGGEST) - 0.01
    assert decide(faq([("teams_tips", low), ("pc_order", low - 0.01)])).outcome == "unsure"
    assert decide(parse_data("hei", "faq", 0.9)).outcome == "unsure"


def test_a_fallback_or_unsure_intent_is_never_answered_directly():
    ranking = [("mfa_setup_app", ANSWER_CONFIDENCE + 0.05), ("mfa_new_phone", SUGGEST - 0.1)]
    assert decide(faq(ranking), may_answer=False).outcome == "clarify"
    # The FallbackClassifier's guess is not a runner-up: the real intents are compared.
    fell_back = faq(ranking, intent="nlu_fallback", intent_confidence=0.5)
    assert decide(fell_back).outcome == "answer"
    assert decide(fell_back, may_answer=False).outcome == "clarify"

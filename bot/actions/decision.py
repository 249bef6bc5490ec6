"""When may Rakel answer with an article? The one decision, used by the answer and
clarify actions and by `make eval`.

A confident wrong answer costs the employee time and trust, so an article is stated
only when the classifier is sure of it *and* clearly prefers it to the runner-up.
When two or three articles are close, Rakel asks "Mente du …?" with them as buttons;
when nothing is close, it says it is unsure and offers a ticket.

The probabilities come from one classifier over every article and every other kind of
reply (bot/nlu/reply_classifier.py), so "clearly prefers" is measured against the
second article *and* against the best other reply (other IT, HR, …): an article that
barely beats "other IT" is asked about, not stated. Whether the message is a knowledge
question at all is the FallbackClassifier's part (config.yml): below its threshold the
message reaches the fallback, which suggests at most.

The thresholds were chosen on the dev split of the real-question evaluation only
(never on its test split); the figures behind them are in docs/honest-answers.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bot.content.faq_intent import FAQ, article_ranking

FALLBACK = "nlu_fallback"


@dataclass(frozen=True)
class Thresholds:
    # Scores are the reply classifier's probabilities (bot/nlu/reply_classifier.py).
    # Answer only when the best article has at least this probability ... (A best
    # article whose nearest training examples are not knowledge questions needs more,
    # and the fallback classifier asks for it before the decision is reached.)
    answer_confidence: float = 0.30
    # ... and is at least this far ahead of the runner-up (the second article or the
    # best other kind of reply, whichever is more likely).
    answer_margin: float = 0.0
    # "Mente du …?" lists the articles with at least this probability (best first, at
    # most suggest_max); below it for the best article, Rakel is unsure and offers a ticket.
    suggest_confidence: float = 0.20
    suggest_max: int = 3


# Chosen on the dev split (`python -m bot.evaluate --tune`, docs/honest-answers.md).
THRESHOLDS = Thresholds()


Outcome = Literal["answer", "clarify", "unsure"]


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    articles: tuple[str, ...]  # answer: the one article; clarify: the suggestions

    @property
    def article(self) -> str | None:
        return self.articles[0] if self.outcome == "answer" else None


def intent_confidence(message: dict[str, Any]) -> float:
    """The confidence in the best real intent (the FallbackClassifier's guess ignored)."""
    for entry in message.get("intent_ranking") or []:
        if entry.get("name") != FALLBACK:
            return float(entry.get("confidence") or 0.0)
    return float((message.get("intent") or {}).get("confidence") or 0.0)


def runner_up(message: dict[str, Any], ranking: list[tuple[str, float]]) -> float:
    """The probability of the best reply other than the top article: the second
    article, or another intent (other IT, HR, small talk …), whichever is higher."""
    second = ranking[1][1] if len(ranking) > 1 else 0.0
    others = [
        float(entry.get("confidence") or 0.0)
        for entry in message.get("intent_ranking") or []
        if entry.get("name") not in (FAQ, FALLBACK)
    ]
    return max([second, *others])


def decide(
    message: dict[str, Any], *, may_answer: bool = True, thresholds: Thresholds = THRESHOLDS
) -> Decision:
    """The first reply to a knowledge question: answer, "Mente du …?" or unsure.

    `may_answer` is False when the message did not reach the `faq` intent with
    confidence (the NLU fell back): then Rakel suggests at most.
    """
    ranking = article_ranking(message)
    if not ranking:
        return Decision("unsure", ())
    best, best_conf = ranking[0]
    t = thresholds
    if (
        may_answer
        and best_conf >= t.answer_confidence
        and best_conf - runner_up(message, ranking) >= t.answer_margin
    ):
        return Decision("answer", (best,))
    suggestions = tuple(a for a, c in ranking[: t.suggest_max] if c >= t.suggest_confidence)
    if not suggestions:
        return Decision("unsure", ())
    return Decision("clarify", suggestions)


# "Nei" to "Hjalp dette?": the articles that came next for the same question, when
# they had at least this probability (below it they are noise, not alternatives), at
# most NEXT_BEST_MAX of them. Added for the recovery flow (bot/actions/context.py);
# the ranking itself is the article selector's, unchanged.
NEXT_BEST_CONFIDENCE = 0.05
NEXT_BEST_MAX = 2


def next_best(
    ranking: list[tuple[str, float]],
    answered: str,
    *,
    floor: float = NEXT_BEST_CONFIDENCE,
    limit: int = NEXT_BEST_MAX,
) -> tuple[str, ...]:
    """The best articles after `answered` in `ranking` (best first) with at least `floor`."""
    return tuple(a for a, c in ranking if a != answered and c >= floor)[:limit]

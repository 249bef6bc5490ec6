"""When may Rakel answer with an article? The one decision, used by the answer and
clarify actions and by `make eval`.

A confident wrong answer costs the employee time and trust, so an article is stated
only when the ResponseSelector is sure of it *and* clearly prefers it to the next
one. When two or three articles are close, Rakel asks "Mente du …?" with them as
buttons; when nothing is close, it says it is unsure and offers a ticket.

The article ranking comes from bot/nlu/article_selector.py in the ResponseSelector's
output format; DIET's intent confidence says whether it is a knowledge question at all.

The thresholds were chosen on the dev split of the real-question evaluation only
(never on its test split); the figures behind them are in docs/honest-answers.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bot.content.faq_intent import article_ranking


@dataclass(frozen=True)
class Thresholds:
    # Scores are the article selector's probabilities (bot/nlu/article_selector.py).
    # Answer only when the best article has at least this probability ...
    answer_confidence: float = 0.50
    # ... and is at least this far ahead of the second best.
    answer_margin: float = 0.30
    # "Mente du …?" lists the articles with at least this probability (best first, at
    # most suggest_max); below it for the best article, Rakel is unsure and offers a ticket.
    suggest_confidence: float = 0.20
    suggest_max: int = 3
    # An intent below this DIET confidence is never answered directly (at most suggested).
    intent_confidence: float = 0.50


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
    """DIET's confidence in its best real intent (the FallbackClassifier's guess ignored)."""
    for entry in message.get("intent_ranking") or []:
        if entry.get("name") != "nlu_fallback":
            return float(entry.get("confidence") or 0.0)
    return float((message.get("intent") or {}).get("confidence") or 0.0)


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
    (best, best_conf), *rest = ranking
    second_conf = rest[0][1] if rest else 0.0
    t = thresholds
    if (
        may_answer
        and intent_confidence(message) >= t.intent_confidence
        and best_conf >= t.answer_confidence
        and best_conf - second_conf >= t.answer_margin
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

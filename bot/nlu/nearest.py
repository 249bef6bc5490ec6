"""Whether the training examples nearest to a message confirm its top label.

The reply classifier (bot/nlu/reply_classifier.py) writes, beside its probabilities,
the label of the training examples nearest to the message in e5 space. A top label
they confirm may be trusted at a lower probability than one they contradict: measured
on questions from organisations the training side never saw, the agreement separates
right from wrong top labels better than the probability does (docs/honest-answers.md).
The fallback classifier (bot/nlu/confirmed_fallback.py), the answer decision
(bot/actions/decision.py) and the evaluation read it here, so they read it alike.
No Rasa import: the action server uses this too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.content.faq_intent import intent_with_article

NEAREST = "nearest_examples"
FALLBACK_INTENT = "nlu_fallback"


def top_label(parse: Mapping[str, Any]) -> str | None:
    """The classifier's top label: the intent, or `faq/<article>` for a knowledge question."""
    intent = (parse.get("intent") or {}).get("name")
    return intent_with_article(intent, parse)


def confirmed(parse: Mapping[str, Any], label: str | None = None) -> bool:
    """Do the nearest training examples carry `label` (default: the top label)?"""
    nearest = (parse.get(NEAREST) or {}).get("label")
    return nearest is not None and nearest == (label or top_label(parse))


def falls_back(parse: Mapping[str, Any], threshold: float, unconfirmed_threshold: float) -> bool:
    """Rasa's FallbackClassifier rule (the top intent's confidence below `threshold`),
    with the higher `unconfirmed_threshold` when the nearest examples disagree."""
    confidence = float((parse.get("intent") or {}).get("confidence") or 0.0)
    if confidence < threshold:
        return True
    return confidence < unconfirmed_threshold and not confirmed(parse)

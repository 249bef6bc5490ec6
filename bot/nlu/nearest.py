"""Whether the training examples nearest to a message confirm the kind of reply the
classifier chose.

The reply classifier (bot/nlu/reply_classifier.py) writes, beside its probabilities,
the label of the training examples nearest to the message in e5 space. When they are
of the same intent as the top label (an article and examples of any article: a
knowledge question; other IT and other-IT examples), a low probability may be trusted;
when they are of another intent, only a high one. Measured on the dev split of real
questions, this separated right from wrong replies better than any probability alone,
and better than asking the neighbours for the same article or the same topic (which
made more messages that the classifier had right fall back; docs/honest-answers.md).
The fallback classifier (bot/nlu/confirmed_fallback.py) and the evaluation read it
here, so they read it alike. No Rasa import: the action server may use this too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.content.faq_intent import intent_with_article

NEAREST = "nearest_examples"


def top_label(parse: Mapping[str, Any]) -> str | None:
    """The classifier's top label: the intent, or `faq/<article>` for a knowledge question."""
    intent = (parse.get("intent") or {}).get("name")
    return intent_with_article(intent, parse)


def _intent(label: str) -> str:
    return label.split("/", 1)[0]


def confirmed(parse: Mapping[str, Any], label: str | None = None) -> bool:
    """Are the nearest training examples of the intent of `label` (default: the top
    label)?"""
    nearest = (parse.get(NEAREST) or {}).get("label")
    label = label or top_label(parse)
    return bool(nearest and label) and _intent(str(nearest)) == _intent(str(label))


def falls_back(parse: Mapping[str, Any], threshold: float, unconfirmed_threshold: float) -> bool:
    """Rasa's FallbackClassifier rule (the top intent's confidence below `threshold`),
    with the higher `unconfirmed_threshold` when the nearest examples disagree."""
    confidence = float((parse.get("intent") or {}).get("confidence") or 0.0)
    if confidence < threshold:
        return True
    return confidence < unconfirmed_threshold and not confirmed(parse)

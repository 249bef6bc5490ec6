"""The articles' retrieval intent: a knowledge question is the intent `faq`, and the
article that answers it is the full retrieval intent `faq/<article id>`.

Rasa names each answer of a retrieval intent `<intent>/<key>`. The NLU result carries
the chosen article as `response_selector.faq.response.intent_response_key` and the
candidates as `response_selector.faq.ranking` (bot/nlu/reply_classifier.py writes
them); a "Mente du …?" button names its article in an `article_id` entity. This module
is the only one that builds or takes apart these names: the catalogue, the training
data, the actions and the evaluation all use it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

FAQ = "faq"
ARTICLE_ENTITY = "article_id"
_PREFIX = f"{FAQ}/"


def full_intent(article_id: str) -> str:
    """`faq/<article id>`: the intent an article's examples train, and its response key."""
    return _PREFIX + article_id


def article_of(intent: str | None) -> str | None:
    """The article id in `faq/<article id>`; None for any other intent."""
    if intent and intent.startswith(_PREFIX):
        return intent[len(_PREFIX) :] or None
    return None


def button_payload(article_id: str) -> str:
    """The payload of a button that picks an article (`/faq{"article_id": …}`)."""
    return f"/{FAQ}" + json.dumps({ARTICLE_ENTITY: article_id})


def chosen_article(parse: Mapping[str, Any]) -> str | None:
    """The article a button payload names in the NLU result `parse`, if any."""
    for entity in parse.get("entities") or []:
        if entity.get("entity") == ARTICLE_ENTITY and entity.get("value"):
            return str(entity["value"])
    return None


def _selector(parse: Mapping[str, Any]) -> Mapping[str, Any]:
    return (parse.get("response_selector") or {}).get(FAQ) or {}


def selected_article(parse: Mapping[str, Any]) -> str | None:
    """The article a message asks for: a button's choice, else the selector's pick."""
    if chosen := chosen_article(parse):
        return chosen
    response = _selector(parse).get("response") or {}
    return article_of(response.get("intent_response_key"))


def article_ranking(parse: Mapping[str, Any]) -> list[tuple[str, float]]:
    """(article id, confidence) as the selector ranked them, best first."""
    ranking = []
    for entry in _selector(parse).get("ranking") or []:
        if article := article_of(entry.get("intent_response_key")):
            ranking.append((article, float(entry.get("confidence") or 0.0)))
    return ranking


def intent_with_article(intent: str | None, parse: Mapping[str, Any]) -> str | None:
    """`intent`, as `faq/<article id>` when it is `faq` and `parse` names an article."""
    if intent == FAQ and (article := selected_article(parse)):
        return full_intent(article)
    return intent

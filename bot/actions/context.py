"""Conversations that keep their thread: topic clarifiers, follow-ups, next-best articles.

What Rakel does with a knowledge question depends on the conversation so far, and
this module decides it, deterministically (docs/conversation-context.md says why not
a policy trained on stories):

- A vague message that names a topic and nothing else ("teams virker ikke", "pc-en
  er treg", "får ikke logget inn") gets the topic clarifier: the topic's articles
  marked `common_problem: true` as buttons. A vague message naming no topic asks
  which topic. The topic words are the catalogue's (knowledge/catalogue.yml).
- A short or elliptic follow-up ("lyden", "på mobilen", "og kameraet?") is placed
  within the conversation's current topic: the article ranking is restricted to that
  topic's articles. A message naming another topic, or one the selector places
  confidently elsewhere while the current topic has nothing close, switches topic.
- "Nei" to "Hjalp dette?" offers the next-best articles stored when the answer was
  given; a second "nei", or nothing left, leads to the ticket offer.

The slots (domain.yml, "conversation context"): current_topic, last_article,
next_best, next_best_offered, recovery_exhausted and knowledge_handover.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import services
from bot.actions.decision import decide, next_best
from bot.content.catalogue import Catalogue
from bot.content.faq_intent import FAQ, article_ranking, button_payload, chosen_article

TOPIC_ENTITY = "topic"
VAGUE_INTENT = "vague_problem"
# IT outside Rakel's topics; a follow-up the current topic places clearly is answered.
OTHER_IT_INTENT = "other_it"

# Words that say something is wrong without saying what: a message made only of these
# and one topic's words is vague about that topic. Bokmål, Nynorsk and dialect forms.
# Not "bare"/"berre": "er det bare meg?" asks whether there is an outage (sd_outages).
PROBLEM_WORDS = frozenset(
    """
    virker verkar funker funkar fungerer fungerar fungere går gikk ikke ikkje ikkje ke
    problem problemer problemet problema problemene trøbbel trøbbelet feil krøll kluss
    tull tøys rart rar treg tregt trege sakte hjelp hjelpe hjelpa meg mæ med er e det
    den dem min mitt mine jeg eg æ har hev får fikk fekk noe noko galt gærent gale
    lenger lengre igjen helt heilt i dag idag plutselig sliter kan du hei hallo og så
    nå no fortsatt framleis enda til på av for ut heller også tuller tullar
    kødder krøller streiker
    """.split()
)

# How a follow-up that continues the previous turn begins ("og kameraet?").
CONTINUATION_WORDS = frozenset({"og", "men", "samme", "enn", "også", "gjelder", "hva", "kva"})
# "Samme på mobilen": explicitly the same thing, never a new topic.
SAME_WORDS = frozenset({"samme", "same"})
# A message of at most this many words is short enough to lean on the context.
SHORT_MESSAGE_WORDS = 3
# A continuation ("og hva med …") longer than this is a question of its own.
CONTINUATION_MAX_WORDS = 8

# Within the current topic: an article needs at least this probability to count ...
IN_TOPIC_CONFIDENCE = 0.02
# ... and more than this share of the topic's probability mass to be answered (else
# suggested: two equally likely articles are a question, not an answer).
IN_TOPIC_SHARE = 0.5
IN_TOPIC_SUGGEST_MAX = 3
# The follow-up is a new topic when the selector puts an article outside the current
# topic at least this high, and the topic's best has less than this fraction of it.
SWITCH_CONFIDENCE = 0.5
SWITCH_RATIO = 0.1
# A follow-up the NLU took for IT outside Rakel's topics ("og skriveren?" on the home
# office) is answered within the topic only when its best article is at least this sure.
OTHER_IT_IN_TOPIC_CONFIDENCE = 0.3

_WORD_RE = re.compile(r"[0-9a-zæøåéèüö'\-]+")

PlanKind = Literal["answer", "clarify_topic", "suggest", "unsure", "other_it"]


@dataclass(frozen=True)
class Plan:
    """What to do with a knowledge question, before any text is chosen."""

    kind: PlanKind
    articles: tuple[str, ...] = ()  # answer: the one article; suggest: the suggestions
    topic: str | None = None  # clarify_topic: the topic (None: ask which topic)
    next_best: tuple[str, ...] = ()  # answer: offered if the user says "nei"
    from_button: bool = False  # answer: the user picked the article
    in_context: bool = False  # answer/suggest: placed within the current topic

    @property
    def article(self) -> str | None:
        return self.articles[0] if self.kind == "answer" and self.articles else None


def words(text: str) -> list[str]:
    """The message's words, lowercased, punctuation dropped ("pc-en" stays one word)."""
    return [w.strip("-'") for w in _WORD_RE.findall(text.lower()) if w.strip("-'")]


def is_vague(tokens: list[str], topic_of_word: dict[str, str]) -> bool:
    """Only problem words and the words of at most one topic: nothing specific."""
    topics = {topic_of_word[t] for t in tokens if t in topic_of_word}
    rest = [t for t in tokens if t not in topic_of_word and t not in PROBLEM_WORDS]
    return bool(tokens) and not rest and len(topics) <= 1


def vague_topic(tokens: list[str], topic_of_word: dict[str, str]) -> str | None:
    """The topic a vague message names, else None."""
    if not is_vague(tokens, topic_of_word):
        return None
    return next((topic_of_word[t] for t in tokens if t in topic_of_word), None)


def is_follow_up(tokens: list[str]) -> bool:
    """Short, or beginning like a continuation: a message that leans on the context."""
    if not tokens:
        return False
    if len(tokens) <= SHORT_MESSAGE_WORDS:
        return True
    return tokens[0] in CONTINUATION_WORDS and len(tokens) <= CONTINUATION_MAX_WORDS


def resolve_in_topic(
    ranking: list[tuple[str, float]],
    topic: str,
    catalogue: Catalogue,
    tokens: list[str],
) -> Plan | None:
    """The follow-up placed within `topic`, or None when it belongs elsewhere."""
    named = {catalogue.topic_of_word[t] for t in tokens if t in catalogue.topic_of_word}
    if named and topic not in named:
        return None  # it names another topic: a new question
    articles = catalogue.articles
    in_topic = [(a, c) for a, c in ranking if a in articles and articles[a].topic == topic]
    in_topic = [(a, c) for a, c in in_topic if c >= IN_TOPIC_CONFIDENCE]
    if not in_topic:
        return None
    best, best_confidence = ranking[0]
    elsewhere = best in articles and articles[best].topic != topic
    if (
        elsewhere
        and not SAME_WORDS & set(tokens)
        and best_confidence >= SWITCH_CONFIDENCE
        and in_topic[0][1] < SWITCH_RATIO * best_confidence
    ):
        return None
    total = sum(c for _, c in in_topic)
    first, confidence = in_topic[0]
    if confidence / total > IN_TOPIC_SHARE:
        return Plan(
            "answer",
            (first,),
            next_best=next_best(in_topic, first),
            in_context=True,
        )
    return Plan("suggest", tuple(a for a, _ in in_topic[:IN_TOPIC_SUGGEST_MAX]), in_context=True)


def _entity(message: dict[str, Any], name: str) -> str | None:
    for entity in message.get("entities") or []:
        if entity.get("entity") == name and entity.get("value"):
            return str(entity["value"])
    return None


def plan(message: dict[str, Any], current_topic: str | None, catalogue: Catalogue) -> Plan:
    """What Rakel does with `message` (the NLU result), given the current topic."""
    if chosen := chosen_article(message):
        return Plan("answer", (chosen,), from_button=True)
    picked = _entity(message, TOPIC_ENTITY)
    if picked in catalogue.topics:
        return Plan("clarify_topic", topic=picked)
    tokens = words(message.get("text") or "")
    intent = (message.get("intent") or {}).get("name")
    if intent == VAGUE_INTENT or is_vague(tokens, catalogue.topic_of_word):
        # "det virker ikke" names no topic: the conversation's, if it has one.
        return Plan(
            "clarify_topic", topic=vague_topic(tokens, catalogue.topic_of_word) or current_topic
        )
    ranking = article_ranking(message)
    resolved = None
    if current_topic and is_follow_up(tokens):
        resolved = resolve_in_topic(ranking, current_topic, catalogue, tokens)
    if intent == OTHER_IT_INTENT:
        if (
            resolved
            and resolved.article
            and dict(ranking)[resolved.article] >= OTHER_IT_IN_TOPIC_CONFIDENCE
        ):
            return resolved
        return Plan("other_it")
    if resolved:
        return resolved
    decision = decide(message, may_answer=intent == FAQ)
    if decision.article:
        return Plan("answer", decision.articles, next_best=next_best(ranking, decision.article))
    if decision.outcome == "clarify":
        return Plan("suggest", decision.articles)
    return Plan("unsure")


def plan_for(tracker: Tracker) -> Plan:
    return plan(tracker.latest_message, tracker.get_slot("current_topic"), services.catalogue())


def response_text(domain: DomainDict, name: str) -> str:
    return domain["responses"][name][0]["text"]


def topic_payload(topic: str) -> str:
    """The payload of a "which topic?" button (`/vague_problem{"topic": …}`)."""
    return f"/{VAGUE_INTENT}" + json.dumps({TOPIC_ENTITY: topic})


class ActionTopicClarifier(Action):
    """A vague message: the current topic's common problems as buttons, or, with no
    topic (or one without common problems), the topics to choose from."""

    def name(self) -> str:
        return "action_topic_clarifier"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        catalogue = services.catalogue()
        other = {
            "title": response_text(domain, "utter_something_else"),
            "payload": "/request_human",
        }
        topic = str(tracker.get_slot("current_topic") or "")
        problems = catalogue.common_problems(topic) if topic in catalogue.topics else []
        if problems:
            buttons = [{"title": a.title, "payload": button_payload(a.id)} for a in problems]
            dispatcher.utter_message(
                response="utter_topic_clarifier",
                topic_label=catalogue.topics[topic].label,
                buttons=[*buttons, other],
            )
            # The buttons not picked are the next-best if the picked one does not help.
            return [
                SlotSet("next_best", [a.id for a in problems]),
                SlotSet("next_best_offered", False),
            ]
        topics = [t for t in catalogue.article_topics() if catalogue.common_problems(t)]
        buttons = [
            {"title": catalogue.topics[t].label, "payload": topic_payload(t)} for t in topics
        ]
        dispatcher.utter_message(response="utter_clarify_problem", buttons=[*buttons, other])
        return [SlotSet("current_topic", None)]


class ActionOfferNextBest(Action):
    """ "Nei" to "Hjalp dette?": the next-best articles for the same question, once;
    after that, or with nothing left, recovery_exhausted leads to the ticket offer."""

    def name(self) -> str:
        return "action_offer_next_best"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        knowledge = services.knowledge()
        last = tracker.get_slot("last_article")
        candidates = [
            a for a in tracker.get_slot("next_best") or [] if a != last and knowledge.get(a)
        ]
        if tracker.get_slot("next_best_offered") or not candidates:
            return [SlotSet("recovery_exhausted", True), SlotSet("next_best", None)]
        offered = candidates[:2]
        buttons = [{"title": knowledge.titles()[a], "payload": button_payload(a)} for a in offered]
        buttons.append({"title": response_text(domain, "utter_none_of_these"), "payload": "/deny"})
        dispatcher.utter_message(response="utter_next_best", buttons=buttons)
        return [
            SlotSet("recovery_exhausted", False),
            SlotSet("next_best_offered", True),
            SlotSet("next_best", offered),
        ]

"""Answer knowledge questions from the articles in knowledge/."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import notices, probably_wrong, services
from bot.actions.context import Plan, plan_for


def _topics(plan: Plan) -> list[str | None]:
    """The topics a handed-over question may be about: the clarifier's topic, or the
    suggested articles' topics (none known: only an "alle systemer" notice concerns it)."""
    if plan.kind == "clarify_topic":
        return [plan.topic]
    if plan.kind == "suggest":
        knowledge = services.knowledge()
        return [a.topic for a in map(knowledge.get, plan.articles) if a]
    return []


class ActionAnswerArticle(Action):
    """A knowledge question, a vague problem, an unclear message or other IT.

    A button names its article: the user chose it. Otherwise the model must be sure
    (bot/actions/decision.py), or the conversation's topic must place a follow-up
    (bot/actions/context.py). If neither, the knowledge_handover slot hands the turn
    to the topic clarifier, to "Mente du …?" or to the honest other-IT reply
    (bot/data/rules/knowledge.yml).
    """

    def name(self) -> str:
        return "action_answer_article"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        knowledge = services.knowledge()
        plan = plan_for(tracker)
        # This message may show that the previous answer was wrong (probably_wrong.py).
        await probably_wrong.after_answer(tracker, plan)
        article = knowledge.get(plan.article) if plan.article else None
        if article is None:
            handover = plan.kind if plan.kind in ("clarify_topic", "other_it") else "suggest"
            events = [
                SlotSet("article_needs_person", None),
                SlotSet("knowledge_handover", handover),
            ]
            if plan.kind == "clarify_topic":
                events.append(SlotSet("current_topic", plan.topic))
            # A known outage of what was asked about comes before the clarifier, the
            # "Mente du …?" suggestions or the other-IT reply (the next action).
            await notices.announce_before_question(dispatcher, tracker, _topics(plan))
            return events
        # A known outage of what the question is about comes before the answer.
        await notices.announce(dispatcher, tracker, article)
        source = knowledge.source_line(article)
        dispatcher.utter_message(
            response="utter_article",
            article_answer=knowledge.render(article),
            article_source=f"\n\n{source}" if source else "",
        )
        if plan.from_button:
            # A picked button keeps what the question offered: the other buttons.
            left = [a for a in tracker.get_slot("next_best") or [] if a != article.id]
            recovery = [SlotSet("next_best", left)]
        else:
            recovery = [
                SlotSet("next_best", list(plan.next_best)),
                SlotSet("next_best_offered", False),
            ]
        return [
            SlotSet("last_article", article.id),
            SlotSet("fallback_count", 0),
            SlotSet("article_needs_person", article.needs_person),
            SlotSet("clarify_exhausted", None),
            SlotSet("knowledge_handover", None),
            SlotSet("current_topic", article.topic),
            *recovery,
        ]

"""Answer knowledge questions from the articles in knowledge/."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import notices, services
from bot.actions.decision import decide
from bot.actions.nlu import latest_entity
from bot.content.faq_intent import ARTICLE_ENTITY


class ActionAnswerArticle(Action):
    def name(self) -> str:
        return "action_answer_article"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        knowledge = services.knowledge()
        # A button names its article: the user chose it. Otherwise the model must be
        # sure (bot/actions/decision.py); if it is not, Rakel asks or says so.
        article_id = latest_entity(tracker, ARTICLE_ENTITY)
        if article_id is None:
            article_id = decide(tracker.latest_message).article
        article = knowledge.get(article_id) if article_id else None
        if article is None:
            return [FollowupAction("action_clarify")]
        # A known outage of what the question is about comes before the answer.
        await notices.announce(dispatcher, tracker, article)
        source = knowledge.source_line(article)
        dispatcher.utter_message(
            response="utter_article",
            article_answer=knowledge.render(article),
            article_source=f"\n\n{source}" if source else "",
        )
        return [
            SlotSet("last_article", article.id),
            SlotSet("fallback_count", 0),
            SlotSet("article_needs_person", article.needs_person),
            SlotSet("clarify_exhausted", None),
        ]

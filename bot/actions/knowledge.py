"""Answer knowledge questions from the articles in knowledge/."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import services
from bot.actions.nlu import selected_article_id


class ActionAnswerArticle(Action):
    def name(self) -> str:
        return "action_answer_article"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        knowledge = services.knowledge()
        article_id = selected_article_id(tracker.latest_message)
        article = knowledge.get(article_id) if article_id else None
        if article is None:
            # Only a hand-made payload names an unknown article: treat it as unclear.
            return [FollowupAction("action_clarify")]
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
        ]

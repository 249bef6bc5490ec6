"""The user's answer to "Hjalp dette?"."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from bot.actions import services
from bot.actions.nlu import latest_intent, latest_message_id
from bot.content.faq_intent import FAQ, full_intent
from bot.feedback import record_feedback, record_miss


def last_question(tracker: Tracker) -> str | None:
    """The user's last knowledge question (the message the article answered)."""
    for event in reversed(tracker.applied_events()):
        if (
            event.get("event") == "user"
            and (event.get("parse_data") or {}).get("intent", {}).get("name") == FAQ
        ):
            return event.get("text")
    return None


class ActionHelpedFeedback(Action):
    def name(self) -> str:
        return "action_helped_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        helped = latest_intent(tracker) == "affirm"
        article_id = tracker.get_slot("last_article")
        channel = tracker.get_latest_input_channel()
        question = last_question(tracker)
        message_id = latest_message_id(tracker)

        def store(session: Session) -> None:
            record_feedback(
                session,
                conversation_id=tracker.sender_id,
                channel=channel,
                article_id=article_id,
                helped=helped,
                message_id=message_id,
            )
            if not helped and question:
                record_miss(
                    session,
                    conversation_id=tracker.sender_id,
                    channel=channel,
                    kind="not_helped",
                    text=question,
                    predicted_intent=full_intent(article_id) if article_id else None,
                    confidence=None,
                    message_id=message_id,
                    answered=article_id,
                )

        await services.record_safely(store, "feedback")
        response = "utter_glad_helped" if helped else "utter_sorry_not_helped"
        dispatcher.utter_message(response=response)
        return []

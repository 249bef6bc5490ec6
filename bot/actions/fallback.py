"""Messages Rakel did not understand, and questions outside its scope."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import services
from bot.actions.nlu import best_guess, latest_message_id, ranked_articles
from bot.feedback import record_miss


def response_text(domain: dict[str, Any], name: str) -> str:
    return domain["responses"][name][0]["text"]


async def remember_miss(tracker: Tracker, kind: str) -> None:
    message = tracker.latest_message
    intent, confidence = best_guess(message)
    await services.record_safely(
        lambda session: record_miss(
            session,
            conversation_id=tracker.sender_id,
            channel=tracker.get_latest_input_channel(),
            kind=kind,
            text=message.get("text") or "",
            predicted_intent=intent,
            confidence=confidence,
            message_id=latest_message_id(tracker.events),
        ),
        f"{kind} message",
    )


class ActionClarify(Action):
    """Two-stage fallback: first "Mente du …?" with the likeliest articles as
    buttons; a second unclear message in a row hands over to a ticket offer."""

    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        await remember_miss(tracker, "fallback")
        misses = int(tracker.get_slot("fallback_count") or 0) + 1
        if misses >= 2:
            dispatcher.utter_message(response="utter_still_unclear")
            return [SlotSet("fallback_count", 0), SlotSet("clarify_exhausted", True)]

        knowledge = services.knowledge()
        articles = [a for a in map(knowledge.get, ranked_articles(tracker.latest_message)) if a]
        if articles:
            buttons = [
                {"title": a.title, "payload": "/faq" + json.dumps({"article_id": a.id})}
                for a in articles
            ]
            buttons.append(
                {"title": response_text(domain, "utter_none_of_these"), "payload": "/deny"}
            )
            dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_ask_rephrase")
        return [SlotSet("fallback_count", misses), SlotSet("clarify_exhausted", False)]


class ActionOutOfScope(Action):
    def name(self) -> str:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        await remember_miss(tracker, "out_of_scope")
        dispatcher.utter_message(response="utter_out_of_scope")
        return []

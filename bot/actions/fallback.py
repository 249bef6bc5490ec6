"""Messages Rakel did not understand, and questions outside its scope."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import probably_wrong, services
from bot.actions.context import plan_for
from bot.actions.nlu import best_guess, latest_message_id
from bot.content.faq_intent import button_payload
from bot.feedback import record_miss


def response_text(domain: DomainDict, name: str) -> str:
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
            message_id=latest_message_id(tracker),
        ),
        f"{kind} message",
    )


class ActionClarify(Action):
    """Rakel is not sure: "Mente du …?" with the close articles as buttons, or, when
    none is close, an honest "I am not sure" and a ticket offer. A second unclear
    message in a row also leads to the ticket offer (rules in data/rules/fallback.yml)."""

    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        await remember_miss(tracker, "fallback")
        misses = int(tracker.get_slot("fallback_count") or 0) + 1
        exhausted = [
            SlotSet("fallback_count", 0),
            SlotSet("clarify_exhausted", True),
            SlotSet("article_needs_person", None),
        ]
        if misses >= 2:
            dispatcher.utter_message(response="utter_still_unclear")
            return exhausted

        knowledge = services.knowledge()
        # The same plan action_answer_article made: suggestions within the current
        # topic for a follow-up, else the close articles (bot/actions/context.py).
        plan = plan_for(tracker)
        suggested = plan.articles if plan.kind == "suggest" else ()
        articles = [a for a in map(knowledge.get, suggested) if a]
        if not articles:
            dispatcher.utter_message(response="utter_unsure")
            return exhausted
        buttons = [{"title": a.title, "payload": button_payload(a.id)} for a in articles]
        buttons.append({"title": response_text(domain, "utter_none_of_these"), "payload": "/deny"})
        dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
        return [
            SlotSet("fallback_count", misses),
            SlotSet("clarify_exhausted", False),
            SlotSet("article_needs_person", None),
            # The suggestions not picked are the next-best if the picked one does not help.
            SlotSet("next_best", [a.id for a in articles]),
            SlotSet("next_best_offered", False),
        ]


class ActionOutOfScope(Action):
    def name(self) -> str:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        await remember_miss(tracker, "out_of_scope")
        dispatcher.utter_message(response="utter_out_of_scope")
        return []


class ActionNoneFit(Action):
    """ "Ingen av disse" to "Mente du …?": say so honestly (the ticket offer follows,
    data/rules/fallback.yml) and record that none of the suggestions fit."""

    def name(self) -> str:
        return "action_none_fit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        await probably_wrong.after_none_fit(tracker)
        dispatcher.utter_message(response="utter_none_fit")
        return []

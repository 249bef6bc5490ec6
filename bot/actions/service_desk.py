"""How to reach the service desk (contact details come from configuration)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import services


class ActionContactServiceDesk(Action):
    def name(self) -> str:
        return "action_contact_service_desk"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        services.utter_with_contacts(dispatcher, "utter_contact_service_desk")
        return []

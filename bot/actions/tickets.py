"""Hand-off to the service desk: the ticket form, creating a ticket, its status.

Flow: a trigger (request_human, or "ja" to utter_offer_ticket) runs
action_prepare_ticket, which prefills what Rakel already knows (the user's question,
the channel identity, the topic); ticket_form then asks only for what is missing,
shows a summary (action_ask_ticket_confirmed) and action_create_ticket stores it.
During an outage of the ticket's topic the form first shows the notice and asks
whether the user still wants a ticket (bot/actions/notices.py); "nei" ends the form
early, and action_create_ticket then stores nothing and says goodbye politely.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from bot import identity as identities
from bot import notices
from bot.actions import notices as outages
from bot.actions import probably_wrong, services
from bot.actions.nlu import latest_entity, latest_intent
from bot.content.faq_intent import full_intent, intent_with_article
from bot.models import Ticket
from bot.privacy import PHONE_MASK, mask_text
from bot.tickets.labels import (
    local_time,
    match_field,
    match_municipality,
    match_priority,
    priority_label,
    status_label,
)
from bot.tickets.repository import (
    create_ticket,
    find_for_requester,
    find_in_conversation,
    latest_for_requester,
    latest_in_conversation,
    parse_public_id,
)
from bot.tickets.transcript import build_transcript, last_questions, question_events

log = logging.getLogger(__name__)

# Asked only while an active notice concerns the ticket's topic (ticket_notice).
DESPITE_NOTICE = "ticket_despite_notice"
FORM_SLOTS = (
    DESPITE_NOTICE,
    "ticket_description",
    "ticket_municipality",
    "ticket_priority",
    "ticket_contact",
    "ticket_confirmed",
)
TICKET_SLOTS = (*FORM_SLOTS, "ticket_category", "ticket_notice")
# Ticket categories are the knowledge topics; chitchat and the like are not cases.
MIN_DESCRIPTION_LENGTH = 10
# A confirmation repeated within this time, same conversation and description, is the
# same case (bot.tickets.repository.create_ticket, `reuse_within`).
DUPLICATE_WINDOW = timedelta(minutes=30)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def reset_ticket_slots() -> list[EventType]:
    return [SlotSet(slot, None) for slot in (*TICKET_SLOTS, "requested_slot")]


def identity(tracker: Tracker) -> dict[str, Any] | None:
    """The verified channel identity of the latest message (never client-supplied:
    channels drop `rakel_identity` from what clients send)."""
    event = tracker.get_last_event_for("user")
    if event is None:
        return None
    value = (event.get("metadata") or {}).get(identities.IDENTITY_KEY)
    return value if isinstance(value, dict) and value.get("id") else None


def identity_contact(tracker: Tracker) -> str | None:
    """How the service desk reaches a verified user: their name in that channel."""
    found = identity(tracker)
    if not found or not requester(tracker).verified:
        return None
    contact = str(found.get("name") or found["id"])
    return f"{contact} ({found['source']})" if found.get("source") else contact


def requester(tracker: Tracker) -> identities.Requester:
    """Who asks: the verified identity, else the (anonymous) conversation (bot.identity)."""
    return identities.requester(tracker.sender_id, identity(tracker))


def category(tracker: Tracker) -> str:
    """Topic of the question that led to the hand-off; service_desk when unknown."""
    questions = question_events(tracker.events)
    intent = None
    if questions:
        parse = questions[-1].get("parse_data") or {}
        intent = intent_with_article((parse.get("intent") or {}).get("name"), parse)
    elif article := tracker.get_slot("last_article"):
        intent = full_intent(article)
    return services.catalogue().ticket_category(intent)


class ActionPrepareTicket(Action):
    """Start a hand-off: clear old answers, prefill what the conversation tells us."""

    def name(self) -> str:
        return "action_prepare_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        # A person asked for right after an article: the answer was probably wrong.
        await probably_wrong.after_person_request(tracker)
        topic = category(tracker)
        notice_id = await outages.notice_for_ticket(tracker, topic)
        if notice_id is None:  # with a notice, its question comes first instead
            dispatcher.utter_message(response="utter_ticket_intro")
        description = "\n".join(last_questions(tracker.events)) or None
        return [
            *reset_ticket_slots(),
            SlotSet("ticket_description", description),
            SlotSet("ticket_contact", identity_contact(tracker)),
            SlotSet("ticket_category", topic),
            SlotSet("ticket_notice", str(notice_id) if notice_id is not None else None),
        ]


def skip_cleared(validate: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Leave a slot alone when its value is None.

    When the form starts, rasa-sdk validates every slot set in this turn, including
    the ones action_prepare_ticket cleared. A cleared slot is not an answer: checking it
    would show "that is not valid" hints for questions nobody has asked yet.
    """
    slot = validate.__name__.removeprefix("validate_")

    @functools.wraps(validate)
    def checked(self: Any, value: Any, *args: Any) -> dict[str, Any]:
        if value is None:
            return {slot: None}
        return validate(self, value, *args)

    return checked


class ValidateTicketForm(FormValidationAction):
    """Checks each answer; a rejected answer is asked again with a short hint."""

    def name(self) -> str:
        return "validate_ticket_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot(DESPITE_NOTICE) is False:
            return []  # "nei" to the notice's question: the form ends, no ticket
        if tracker.get_slot("ticket_notice") is None:
            return [slot for slot in domain_slots if slot != DESPITE_NOTICE]
        return domain_slots

    @skip_cleared
    def validate_ticket_despite_notice(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        intent = latest_intent(tracker)
        if intent in ("affirm", "deny"):
            return {DESPITE_NOTICE: intent == "affirm"}
        return {DESPITE_NOTICE: None}  # asked again, with the buttons

    @skip_cleared
    def validate_ticket_description(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = mask_text(str(value or "")).strip()
        if text.startswith("/") or len(text) < MIN_DESCRIPTION_LENGTH:
            dispatcher.utter_message(response="utter_invalid_ticket_description")
            return {"ticket_description": None}
        return {"ticket_description": text}

    @skip_cleared
    def validate_ticket_municipality(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        found = match_municipality(latest_entity(tracker, "municipality")) or match_municipality(
            str(value or "")
        )
        if found is None:
            dispatcher.utter_message(response="utter_invalid_ticket_municipality")
        return {"ticket_municipality": found}

    @skip_cleared
    def validate_ticket_priority(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        found = match_priority(latest_entity(tracker, "priority")) or match_priority(
            str(value or "")
        )
        if found is None:
            dispatcher.utter_message(response="utter_invalid_ticket_priority")
        return {"ticket_priority": found}

    @skip_cleared
    def validate_ticket_contact(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = str(value or "")
        # Prefilled from the channel identity (validated again when the form starts).
        if text and text == identity_contact(tracker):
            return {"ticket_contact": text}
        email = _EMAIL.search(text)
        if email:
            return {"ticket_contact": email.group(0)}
        if PHONE_MASK in text:
            dispatcher.utter_message(response="utter_ticket_contact_no_phone")
        else:
            dispatcher.utter_message(response="utter_invalid_ticket_contact")
        return {"ticket_contact": None}

    @skip_cleared
    def validate_ticket_confirmed(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if latest_intent(tracker) == "affirm":
            return {"ticket_confirmed": True}
        named = latest_entity(tracker, "ticket_field")
        field = (
            named if named in FORM_SLOTS else match_field(named) or match_field(str(value or ""))
        )
        if field is None:
            dispatcher.utter_message(response="utter_ticket_what_to_change")
            return {"ticket_confirmed": None}
        # Clearing the field makes the form ask for it again, then show the summary.
        return {field: None, "ticket_confirmed": None}


class ActionAskTicketConfirmed(Action):
    """The summary of the ticket with send / change / cancel buttons."""

    def name(self) -> str:
        return "action_ask_ticket_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(
            response="utter_ticket_summary",
            description=tracker.get_slot("ticket_description"),
            municipality=tracker.get_slot("ticket_municipality"),
            priority=priority_label(tracker.get_slot("ticket_priority") or "normal"),
            contact=tracker.get_slot("ticket_contact"),
        )
        return []


class ActionCreateTicket(Action):
    """Store the confirmed ticket (one transaction) and tell the user its id."""

    def name(self) -> str:
        return "action_create_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot(DESPITE_NOTICE) is False:
            dispatcher.utter_message(response="utter_no_ticket_during_notice")
            return reset_ticket_slots()
        settings = services.settings()
        requester_id, requester_name, _ = requester(tracker)
        category = tracker.get_slot("ticket_category") or services.catalogue().default_topic

        def store(session: Session) -> str:
            ticket = create_ticket(
                session,
                channel=tracker.get_latest_input_channel() or "ukjent",
                conversation_id=tracker.sender_id,
                requester_id=requester_id,
                requester_name=requester_name,
                contact=tracker.get_slot("ticket_contact"),
                municipality=tracker.get_slot("ticket_municipality"),
                priority=tracker.get_slot("ticket_priority") or "normal",
                category=category,
                description=tracker.get_slot("ticket_description") or "",
                transcript=build_transcript(tracker.events),
                outbox=settings.itsm_url is not None,
                # A resent confirmation after an action-server crash gets the same ticket.
                reuse_within=DUPLICATE_WINDOW,
            )
            # Reported during an outage of what it is about: staff see it on the notice.
            notices.link_ticket(session, ticket)
            return ticket.public_id

        try:
            public_id = await services.database().run_async(store)
        except Exception:  # noqa: BLE001 - any storage fault: say so, nothing is half-stored
            log.exception("could not store a ticket for conversation %s", tracker.sender_id)
            services.utter_with_contacts(dispatcher, "utter_ticket_failed")
            return reset_ticket_slots()
        log.info("ticket %s created (category %s)", public_id, category)
        dispatcher.utter_message(response="utter_ticket_created", ticket_id=public_id)
        return reset_ticket_slots()


class ActionCancelTicket(Action):
    def name(self) -> str:
        return "action_cancel_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_ticket_cancelled")
        return [ActiveLoop(None), *reset_ticket_slots()]


class ActionTicketStatus(Action):
    """Status of the requester's own tickets; any other id looks like no ticket at all.

    Only a verified identity (Teams, signed intranet user) has tickets across
    conversations. Anyone else could be anyone: they see the tickets of this very
    conversation, and are told how to get help with any other.
    """

    def name(self) -> str:
        return "action_ticket_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        who = requester(tracker)
        # "" when the message has no text: parse_public_id finds no id in it either.
        asked: str = latest_entity(tracker, "ticket_id") or tracker.latest_message.get("text") or ""
        wanted = parse_public_id(asked)

        def lookup(session: Session) -> list[Ticket]:
            if wanted is not None:
                found = (
                    find_for_requester(session, asked, who.id)
                    if who.verified
                    else find_in_conversation(session, asked, tracker.sender_id)
                )
                return [found] if found else []
            if who.verified:
                return latest_for_requester(session, who.id)
            return latest_in_conversation(session, tracker.sender_id)

        try:
            tickets = await services.database().run_async(lookup)
        except Exception:  # noqa: BLE001 - storage fault: apologise, keep talking
            log.exception("could not look up tickets")
            dispatcher.utter_message(response="utter_action_unavailable")
            return []
        if not tickets and not who.verified:
            services.utter_with_contacts(dispatcher, "utter_ticket_status_needs_identity")
            return []
        if not tickets:
            dispatcher.utter_message(
                response="utter_ticket_not_found" if wanted is not None else "utter_ticket_none"
            )
            return []
        for ticket in tickets:
            dispatcher.utter_message(
                response="utter_ticket_status",
                ticket_id=ticket.public_id,
                summary=ticket.summary,
                status=status_label(ticket.status),
                updated=local_time(ticket.updated_at),
            )
        return []

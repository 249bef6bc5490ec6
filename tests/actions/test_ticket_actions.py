"""The hand-off actions with real rasa_sdk Trackers, the real domain and a real database."""

from __future__ import annotations

import json

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.tickets import (
    ActionAskTicketConfirmed,
    ActionCancelTicket,
    ActionCreateTicket,
    ActionPrepareTicket,
    ActionTicketStatus,
    ValidateTicketForm,
)
from bot.models import OutboxMessage, Ticket
from bot.tickets.repository import create_ticket
from tests.support.trackers import parse_data, tracker, user_event

VALID_FNR = "15076500565"
LOST_PHONE = "jeg har mistet mobilen med authenticator"


def bot_event(text, buttons=None, timestamp=1_790_000_001.0):
    return {
        "event": "bot",
        "text": text,
        "timestamp": timestamp,
        "data": {"buttons": buttons} if buttons else {},
    }


def offer_history():
    """A needs_person article was answered, Rakel offered a ticket."""
    question = user_event(LOST_PHONE, "faq", article="mfa_lost_phone")
    question["timestamp"] = 1_790_000_000.0
    return [
        question,
        bot_event("Svar om mistet mobil"),
        bot_event(
            "Vil du at jeg melder en sak?",
            [
                {"title": "Ja, meld sak", "payload": "/affirm"},
                {"title": "Nei takk", "payload": "/deny"},
            ],
        ),
    ]


async def run(action, tracker_, domain):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker_, domain)
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


KARI_TEAMS = {"id": "aad-123", "name": "Kari Nordmann", "source": "teams"}


def with_identity(latest, identity, history=(), sender="teams:29:kari", channel="teams"):
    """A message as a channel hands it over: conversation id and verified identity."""
    event = {
        "event": "user",
        "text": latest["text"],
        "parse_data": latest,
        "input_channel": channel,
        "metadata": {"rakel_identity": identity} if identity else {},
    }
    return Tracker(
        sender_id=sender,
        slots={},
        latest_message=latest,
        events=[*history, event],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def test_prepare_prefills_the_question_and_its_topic(database, domain):
    messages, slots = await run(
        ActionPrepareTicket(), tracker(parse_data("ja", "affirm"), history=offer_history()), domain
    )
    assert [m["response"] for m in messages] == ["utter_ticket_intro"]
    assert slots["ticket_description"] == LOST_PHONE
    assert slots["ticket_category"] == "two_factor"
    assert slots["ticket_contact"] is None
    assert slots["ticket_municipality"] is None and slots["ticket_confirmed"] is None


async def test_prepare_after_two_unclear_messages_uses_both_masked(database, domain):
    history = [
        user_event(f"printeren min sier feil, fnr {VALID_FNR}", "nlu_fallback"),
        bot_event("Mente du …?"),
        user_event("den skriver ikke ut noe", "nlu_fallback"),
        bot_event("Vil du at jeg melder en sak?"),
    ]
    _, slots = await run(
        ActionPrepareTicket(), tracker(parse_data("ja", "affirm"), history=history), domain
    )
    assert slots["ticket_description"] == (
        "printeren min sier feil, fnr [fødselsnummer fjernet]\nden skriver ikke ut noe"
    )
    assert slots["ticket_category"] == "service_desk"


async def test_prepare_takes_the_contact_from_the_channel_identity(database, domain):
    identity = {"id": "aad-123", "name": "Kari Nordmann", "source": "teams"}
    _, slots = await run(
        ActionPrepareTicket(),
        with_identity(parse_data("meld sak", "request_human"), identity),
        domain,
    )
    assert slots["ticket_contact"] == "Kari Nordmann (teams)"
    # The form validates prefilled slots when it starts: the identity passes.
    dispatcher = CollectingDispatcher()
    tracker_ = with_identity(parse_data("meld sak", "request_human"), identity)
    assert ValidateTicketForm().validate_ticket_contact(
        "Kari Nordmann (teams)", dispatcher, tracker_, domain
    ) == {"ticket_contact": "Kari Nordmann (teams)"}
    assert dispatcher.messages == []
    # "meld sak" describes no problem: the form will ask for a description.
    assert slots["ticket_description"] is None


def validate(slot, value, latest):
    dispatcher = CollectingDispatcher()
    method = getattr(ValidateTicketForm(), f"validate_{slot}")
    result = method(value, dispatcher, tracker(latest), {})
    return result, [m["response"] for m in dispatcher.messages]


@pytest.mark.parametrize(
    ("latest", "expected"),
    [
        (
            parse_data(
                '/inform{"municipality": "Rauma"}',
                "inform",
                entities=[{"entity": "municipality", "value": "Rauma"}],
            ),
            "Rauma",
        ),
        (parse_data("jeg jobber i Nesset", "inform"), "Molde"),
        (parse_data("vestnes kommune", "inform"), "Vestnes"),
        (parse_data("Oslo", "inform"), None),
    ],
)
def test_municipality_answers(latest, expected):
    result, responses = validate("ticket_municipality", latest["text"], latest)
    assert result == {"ticket_municipality": expected}
    assert responses == ([] if expected else ["utter_invalid_ticket_municipality"])


@pytest.mark.parametrize(
    ("text", "entity", "expected"),
    [
        ('/inform{"priority": "kritisk"}', "kritisk", "kritisk"),
        ("Høy", None, "hoy"),
        ("det er vel normal", None, "normal"),
        ("tja", None, None),
    ],
)
def test_priority_answers(text, entity, expected):
    entities = [{"entity": "priority", "value": entity}] if entity else []
    result, responses = validate(
        "ticket_priority", text, parse_data(text, "inform", entities=entities)
    )
    assert result == {"ticket_priority": expected}
    assert responses == ([] if expected else ["utter_invalid_ticket_priority"])


@pytest.mark.parametrize(
    ("text", "expected", "hint"),
    [
        ("kari.nordmann@molde.kommune.no", "kari.nordmann@molde.kommune.no", []),
        ("du når meg på ola@rauma.kommune.no takk", "ola@rauma.kommune.no", []),
        ("[telefonnummer fjernet]", None, ["utter_ticket_contact_no_phone"]),
        ("Kari", None, ["utter_invalid_ticket_contact"]),
    ],
)
def test_contact_answers(text, expected, hint):
    result, responses = validate("ticket_contact", text, parse_data(text, "inform"))
    assert result == {"ticket_contact": expected} and responses == hint


def test_too_short_descriptions_are_asked_again():
    result, responses = validate("ticket_description", "hjelp", parse_data("hjelp", "faq"))
    assert result == {"ticket_description": None}
    assert responses == ["utter_invalid_ticket_description"]
    text = f"Skjermen er svart, fnr {VALID_FNR}"
    assert validate("ticket_description", text, parse_data(text, "faq"))[0] == {
        "ticket_description": "Skjermen er svart, fnr [fødselsnummer fjernet]"
    }


@pytest.mark.parametrize(
    ("latest", "expected"),
    [
        (parse_data("ja", "affirm"), {"ticket_confirmed": True}),
        (
            parse_data(
                '/change_ticket{"ticket_field": "kommune"}',
                "change_ticket",
                entities=[{"entity": "ticket_field", "value": "kommune"}],
            ),
            {"ticket_municipality": None, "ticket_confirmed": None},
        ),
        (
            parse_data("endre prioriteten", "change_ticket"),
            {"ticket_priority": None, "ticket_confirmed": None},
        ),
        (
            parse_data(
                "feil e-post",
                "change_ticket",
                entities=[{"entity": "ticket_field", "value": "e-post"}],
            ),
            {"ticket_contact": None, "ticket_confirmed": None},
        ),
        (parse_data("nei", "deny"), {"ticket_confirmed": None}),
    ],
)
def test_confirmation_sends_or_reopens_a_field(latest, expected):
    result, responses = validate("ticket_confirmed", latest["text"], latest)
    assert result == expected
    assert responses == (
        []
        if len(expected) == 2 or expected["ticket_confirmed"]
        else ["utter_ticket_what_to_change"]
    )


async def test_summary_shows_the_labels(database, domain):
    slots = {
        "ticket_description": "Skjermen er svart",
        "ticket_municipality": "Aukra",
        "ticket_priority": "hoy",
        "ticket_contact": "kari@aukra.kommune.no",
    }
    messages, _ = await run(
        ActionAskTicketConfirmed(), tracker(parse_data("Høy", "inform"), slots=slots), domain
    )
    assert messages[0]["response"] == "utter_ticket_summary"
    assert (messages[0]["description"], messages[0]["priority"]) == ("Skjermen er svart", "Høy")


FILLED = {
    "ticket_description": LOST_PHONE,
    "ticket_municipality": "Molde",
    "ticket_priority": "hoy",
    "ticket_contact": "kari@molde.kommune.no",
    "ticket_confirmed": True,
    "ticket_category": "two_factor",
}


async def test_create_stores_the_ticket_with_its_transcript(database, domain):
    history = [*offer_history(), user_event("/affirm", "affirm")]
    messages, slots = await run(
        ActionCreateTicket(),
        tracker(parse_data("ja", "affirm"), slots=FILLED, history=history),
        domain,
    )
    ticket = database.run(lambda s: s.query(Ticket).one())
    assert messages == [
        {**messages[0], "response": "utter_ticket_created", "ticket_id": ticket.public_id}
    ]
    assert ticket.public_id == "RAK-1001"
    assert (
        ticket.requester_id,
        ticket.channel,
        ticket.category,
        ticket.priority,
        ticket.municipality,
        ticket.contact,
        ticket.description,
    ) == (
        "anon:rest:user-1",
        "rest",
        "two_factor",
        "hoy",
        "Molde",
        "kari@molde.kommune.no",
        LOST_PHONE,
    )
    transcript = json.loads(ticket.transcript)
    assert transcript[0]["sender"] == "user" and transcript[0]["text"] == LOST_PHONE
    assert transcript[0]["timestamp"].startswith("2026-")
    assert transcript[2]["buttons"][0]["title"] == "Ja, meld sak"
    # A button click shows the title the user saw, with the payload beside it.
    assert (transcript[3]["text"], transcript[3]["payload"]) == ("Ja, meld sak", "/affirm")
    assert all(value is None for value in slots.values())
    assert database.run(lambda s: s.query(OutboxMessage).count()) == 0


async def test_a_resent_confirmation_gets_the_same_ticket(database, domain):
    # The action server stored the ticket and died before Rasa heard back; the user
    # sends "ja" again and Rasa runs the action a second time.
    confirm = tracker(parse_data("ja", "affirm"), slots=FILLED)
    first, _ = await run(ActionCreateTicket(), confirm, domain)
    again, _ = await run(ActionCreateTicket(), confirm, domain)
    assert [m["ticket_id"] for m in first + again] == ["RAK-1001", "RAK-1001"]
    assert database.run(lambda s: s.query(Ticket).count()) == 1

    other_case = tracker(
        parse_data("ja", "affirm"), slots={**FILLED, "ticket_description": "Skjermen er helt svart"}
    )
    other_user = tracker(parse_data("ja", "affirm"), slots=FILLED, sender="anon:rest:user-2")
    for confirmation in (other_case, other_user):
        messages, _ = await run(ActionCreateTicket(), confirmation, domain)
        assert messages[0]["response"] == "utter_ticket_created"
    assert database.run(lambda s: s.query(Ticket).count()) == 3


async def test_create_queues_the_ticket_for_the_itsm(database, domain, monkeypatch):
    monkeypatch.setenv("RAKEL_ITSM_URL", "http://127.0.0.1:9/tickets")
    from bot.actions import services

    services.reset()
    await run(ActionCreateTicket(), tracker(parse_data("ja", "affirm"), slots=FILLED), domain)
    outbox = database.run(lambda s: s.query(OutboxMessage).one())
    assert json.loads(outbox.payload)["id"] == "RAK-1001"


async def test_create_says_so_when_storage_fails(database, domain, monkeypatch, tmp_path):
    from bot.actions import services

    # A database without the tickets table: the insert fails, nothing is stored.
    monkeypatch.setenv("RAKEL_DB_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    services.reset()
    messages, slots = await run(
        ActionCreateTicket(), tracker(parse_data("ja", "affirm"), slots=FILLED), domain
    )
    assert [m["response"] for m in messages] == ["utter_ticket_failed"]
    assert "contact_email" in messages[0]
    assert slots["ticket_confirmed"] is None
    assert database.run(lambda s: s.query(Ticket).count()) == 0


async def test_cancel_deactivates_the_form_and_clears_answers(database, domain):
    dispatcher = CollectingDispatcher()
    events = await ActionCancelTicket().run(
        dispatcher, tracker(parse_data("avbryt", "cancel"), slots=FILLED), domain
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_ticket_cancelled"]
    assert {"event": "active_loop", "name": None} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]
    assert database.run(lambda s: s.query(Ticket).count()) == 0


STATUS_QUESTION = "Hva er status på RAK-1001?"
ASKED_ID = [{"entity": "ticket_id", "value": "RAK-1001"}]


def status_of(text, sender, entities=None, identity=None, channel="rest"):
    return with_identity(
        parse_data(text, "ticket_status", entities=entities),
        identity,
        sender=sender,
        channel=channel,
    )


def kari_asks(text, entities=None, sender="teams:29:kari"):
    return status_of(text, sender, entities, identity=KARI_TEAMS, channel="teams")


def add_ticket(database, conversation_id, requester_id, description="Teams starter ikke på PC-en"):
    return database.run(
        lambda s: (
            create_ticket(
                s,
                channel="teams",
                conversation_id=conversation_id,
                requester_id=requester_id,
                category="teams",
                description=description,
            ).public_id
        )
    )


async def test_status_of_an_own_ticket(database, domain):
    add_ticket(database, "teams:29:kari", "teams:aad-123")
    # Kari in another Teams conversation (a new device): still her ticket.
    messages, _ = await run(
        ActionTicketStatus(), kari_asks(STATUS_QUESTION, ASKED_ID, sender="teams:29:new"), domain
    )
    assert [m["response"] for m in messages] == ["utter_ticket_status"]
    assert (messages[0]["ticket_id"], messages[0]["status"]) == (
        "RAK-1001",
        "Ny – ikke påbegynt ennå",
    )
    assert messages[0]["summary"] == "Teams starter ikke på PC-en"
    assert " kl. " in messages[0]["updated"]


@pytest.mark.parametrize(
    ("identity", "text"),
    [
        ({"id": "aad-999", "source": "teams"}, STATUS_QUESTION),  # exists, not theirs
        (KARI_TEAMS, "Hva er status på RAK-1077?"),  # does not exist
    ],
)
async def test_status_of_other_or_missing_tickets_looks_the_same(database, domain, identity, text):
    add_ticket(database, "teams:29:kari", "teams:aad-123")
    messages, _ = await run(
        ActionTicketStatus(), status_of(text, "teams:29:x", identity=identity), domain
    )
    assert [m["response"] for m in messages] == ["utter_ticket_not_found"]


async def test_status_without_a_number_lists_own_tickets(database, domain):
    messages, _ = await run(ActionTicketStatus(), kari_asks("status på saken min"), domain)
    assert [m["response"] for m in messages] == ["utter_ticket_none"]
    for n in range(4):
        add_ticket(database, f"teams:29:device-{n}", "teams:aad-123", f"Sak nummer {n}")
    add_ticket(database, "anon:rest:aad-123", "anon:rest:aad-123", "Ikke Karis sak")
    messages, _ = await run(ActionTicketStatus(), kari_asks("status på saken min"), domain)
    assert [m["ticket_id"] for m in messages] == ["RAK-1004", "RAK-1003", "RAK-1002"]


@pytest.mark.parametrize(
    "forged",
    [
        None,
        KARI_TEAMS,  # metadata a channel would never pass on, checked anyway
        {"id": "aad-123", "source": "intranet"},
    ],
)
async def test_a_rest_sender_equal_to_a_teams_users_id_sees_none_of_their_tickets(
    database, domain, forged
):
    add_ticket(database, "teams:29:kari", "teams:aad-123")
    # The REST channel makes sender "aad-123" the conversation "anon:rest:aad-123".
    for text, entities in ((STATUS_QUESTION, ASKED_ID), ("status på saken min", None)):
        messages, _ = await run(
            ActionTicketStatus(), status_of(text, "anon:rest:aad-123", entities, forged), domain
        )
        assert [m["response"] for m in messages] == ["utter_ticket_status_needs_identity"]
        assert messages[0]["contact_email"] and messages[0]["contact_phone"]


async def test_a_rest_ticket_is_not_created_in_a_teams_users_name(database, domain):
    impostor = with_identity(
        parse_data("ja", "affirm"), KARI_TEAMS, sender="anon:rest:aad-123", channel="rest"
    )
    impostor.slots.update(FILLED)
    await run(ActionCreateTicket(), impostor, domain)
    ticket = database.run(lambda s: s.query(Ticket).one())
    assert (ticket.requester_id, ticket.requester_name) == ("anon:rest:aad-123", None)
    messages, _ = await run(ActionTicketStatus(), kari_asks("status på saken min"), domain)
    assert [m["response"] for m in messages] == ["utter_ticket_none"]


async def test_a_teams_ticket_belongs_to_the_verified_user(database, domain):
    kari = with_identity(parse_data("ja", "affirm"), KARI_TEAMS)
    kari.slots.update(FILLED)
    await run(ActionCreateTicket(), kari, domain)
    ticket = database.run(lambda s: s.query(Ticket).one())
    assert (ticket.conversation_id, ticket.requester_id, ticket.requester_name) == (
        "teams:29:kari",
        "teams:aad-123",
        "Kari Nordmann",
    )


async def test_anonymous_status_only_in_the_conversation_that_created_it(database, domain):
    add_ticket(database, "anon:widget:s1", "anon:widget:s1")
    own = status_of(STATUS_QUESTION, "anon:widget:s1", ASKED_ID, channel="socketio")
    messages, _ = await run(ActionTicketStatus(), own, domain)
    assert [(m["response"], m["ticket_id"]) for m in messages] == [
        ("utter_ticket_status", "RAK-1001")
    ]
    listed, _ = await run(
        ActionTicketStatus(), status_of("status på saken min", "anon:widget:s1"), domain
    )
    assert [m["ticket_id"] for m in listed] == ["RAK-1001"]
    for other in ("anon:widget:s2", "anon:rest:s1", "anon:rest:anon:widget:s1"):
        messages, _ = await run(ActionTicketStatus(), status_of(STATUS_QUESTION, other), domain)
        assert [m["response"] for m in messages] == ["utter_ticket_status_needs_identity"]


def test_every_response_the_actions_use_is_in_the_domain(domain):
    import re
    from pathlib import Path

    import bot.actions.tickets as module

    used = set(re.findall(r'"(utter_[a-z_]+)"', Path(module.__file__).read_text()))
    assert used and used <= set(domain["responses"])


@pytest.mark.parametrize(
    "slot",
    [
        "ticket_description",
        "ticket_municipality",
        "ticket_priority",
        "ticket_contact",
        "ticket_confirmed",
    ],
)
def test_a_cleared_slot_is_not_judged_as_an_answer(domain, slot):
    # When the form starts it sees the slots action_prepare_ticket cleared (None).
    from bot.actions.tickets import ValidateTicketForm

    dispatcher = CollectingDispatcher()
    validate = getattr(ValidateTicketForm(), f"validate_{slot}")
    tracker_ = Tracker(
        "u1",
        {},
        {
            "text": "jeg vil snakke med en person",
            "intent": {"name": "request_human"},
            "entities": [],
        },
        [],
        False,
        None,
        {},
        "action_listen",
    )
    assert validate(None, dispatcher, tracker_, domain) == {slot: None}
    assert dispatcher.messages == []

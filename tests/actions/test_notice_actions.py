"""action_answer_article with outage notices: real trackers, domain and database."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rasa_sdk.executor import CollectingDispatcher

from bot import notices
from bot.actions import services
from bot.actions.decision import THRESHOLDS
from bot.actions.knowledge import ActionAnswerArticle
from bot.actions.notices import ActionAskTicketDespiteNotice, user_municipality
from bot.actions.tickets import ActionCreateTicket, ActionPrepareTicket, ValidateTicketForm
from bot.models import Ticket
from tests.notices.conftest import notice_values
from tests.support.trackers import parse_data, tracker, user_event


def publish(database, **overrides):
    return database.run(lambda s: notices.create_notice(s, "admin", notice_values(**overrides)))


async def answer(domain, text, article, **tracker_args):
    dispatcher = CollectingDispatcher()
    message = parse_data(text, "faq", article=article)
    await ActionAnswerArticle().run(dispatcher, tracker(message, **tracker_args), domain)
    return dispatcher.messages


async def test_status_question_without_notices_says_none_known_then_the_article(database, domain):
    messages = await answer(domain, "er det driftsproblemer nå?", "sd_outages")
    assert [m["response"] for m in messages] == ["utter_no_notices", "utter_article"]


async def test_status_question_lists_every_active_notice(database, domain):
    publish(database, title="Teams er nede")
    publish(
        database,
        title="E-post er treg",
        service="email",
        municipalities="alle",
        expected_end_at=None,
    )
    publish(database, title="Planlagt", status="planlagt")
    messages = await answer(domain, "er det bare meg?", "sd_outages")
    assert [m["response"] for m in messages] == [
        "utter_notices_intro",
        "utter_notice",
        "utter_notice",
        "utter_article",
    ]
    titles = [m["notice_title"] for m in messages if m["response"] == "utter_notice"]
    assert sorted(titles) == ["E-post er treg", "Teams er nede"]
    email = next(m for m in messages if m.get("notice_title") == "E-post er treg")
    assert (email["notice_municipalities"], email["notice_end"]) == ("alle kommunene", "")
    teams = next(m for m in messages if m.get("notice_title") == "Teams er nede")
    assert teams["notice_end"].startswith(" Forventet løst: ")


async def test_a_teams_article_gets_the_teams_notice_first_and_a_pc_article_does_not(
    database, domain
):
    publish(database, title="Teams er nede")
    teams = await answer(domain, "teams starter ikke", "teams_not_starting")
    assert [m["response"] for m in teams] == ["utter_notice_first", "utter_article"]
    assert teams[0]["notice_title"] == "Teams er nede"
    pc = await answer(domain, "pc-en min er ødelagt", "pc_broken")
    assert [m["response"] for m in pc] == ["utter_article"]


async def test_an_all_systems_notice_comes_before_any_article(database, domain):
    publish(database, title="Alt er nede", service="all", municipalities="alle")
    pc = await answer(domain, "pc-en min er ødelagt", "pc_broken")
    assert [m["response"] for m in pc] == ["utter_notice_first", "utter_article"]


async def test_the_users_municipality_from_the_conversation_filters_notices(database, domain):
    publish(database, title="Teams er nede i Rauma", municipalities=["Rauma"])
    molde = await answer(
        domain, "er teams nede?", "sd_outages", slots={"ticket_municipality": "Molde"}
    )
    assert [m["response"] for m in molde] == ["utter_no_notices", "utter_article"]
    rauma = await answer(
        domain, "er teams nede?", "sd_outages", slots={"ticket_municipality": "Rauma"}
    )
    assert rauma[1]["notice_title"] == "Teams er nede i Rauma"


def test_the_identitys_address_domain_names_the_municipality(database):
    message = parse_data("er det bare meg?", "faq", article="sd_outages")
    message_tracker = tracker(
        message, sender="intranet:kari@vestnes.kommune.example", channel="socketio"
    )
    # The identity as the widget channel puts it into the message metadata.
    message_tracker.events[-1]["metadata"] = {
        "rakel_identity": {"id": "kari@vestnes.kommune.example", "source": "intranet"}
    }
    assert user_municipality(message_tracker) == "Vestnes"
    message_tracker.events[-1]["metadata"]["rakel_identity"]["id"] = "kari@gmail.example"
    assert user_municipality(message_tracker) is None


async def test_a_database_fault_still_answers_the_question(database, domain, monkeypatch):
    async def broken(_work):
        raise RuntimeError("database is down")

    monkeypatch.setattr(services.database(), "run_async", broken)
    status = await answer(domain, "er det driftsproblemer nå?", "sd_outages")
    assert [m["response"] for m in status] == ["utter_notices_unavailable", "utter_article"]
    teams = await answer(domain, "teams starter ikke", "teams_not_starting")
    assert [m["response"] for m in teams] == ["utter_article"]


def test_the_notice_responses_exist_in_the_domain(domain):
    for name in (
        "utter_notices_intro",
        "utter_notice",
        "utter_no_notices",
        "utter_notices_unavailable",
        "utter_notice_first",
    ):
        assert domain["responses"][name][0]["text"]
    assert domain["responses"]["utter_no_notices"][0]["text"].startswith(
        "Ingen kjente feil akkurat nå"
    )


def test_future_start_is_not_active_yet(database):
    publish(
        database, starts_at=datetime.now(timezone.utc) + timedelta(hours=1), expected_end_at=None
    )
    assert database.run(lambda s: notices.active_notices(s)) == []


FILLED = {
    "ticket_description": "Teams-møtene mine starter ikke",
    "ticket_municipality": "Molde",
    "ticket_priority": "hoy",
    "ticket_contact": "kari@molde.kommune.example",
    "ticket_confirmed": True,
    "ticket_category": "teams",
}


async def create_ticket(domain, slots):
    dispatcher = CollectingDispatcher()
    await ActionCreateTicket().run(
        dispatcher, tracker(parse_data("ja", "affirm"), slots=slots), domain
    )
    return dispatcher.messages


async def test_a_ticket_during_a_notice_about_its_topic_is_linked_to_it(database, domain):
    teams = publish(database, title="Teams er nede")
    publish(database, title="Visma er nede", service="visma")
    messages = await create_ticket(domain, FILLED)
    assert messages[0]["response"] == "utter_ticket_created"
    stored = database.run(lambda s: notices.get_notice(s, teams.id))
    assert database.run(lambda s: notices.linked_ticket_ids(s, stored)) == [1]
    audit = database.run(lambda s: notices.history(s, stored))
    assert (audit[-1].actor, audit[-1].action, audit[-1].new_value) == (
        "rakel",
        "linked",
        messages[0]["ticket_id"],
    )
    # The same confirmation again is the same ticket, still linked once.
    await create_ticket(domain, FILLED)
    assert database.run(lambda s: notices.linked_ticket_ids(s, stored)) == [1]


async def test_a_ticket_about_another_topic_or_municipality_is_not_linked(database, domain):
    teams = publish(database, title="Teams er nede", municipalities=["Rauma"])
    await create_ticket(domain, FILLED)  # Molde
    await create_ticket(
        domain,
        {
            **FILLED,
            "ticket_municipality": "Rauma",
            "ticket_category": "pc_replacement",
            "ticket_description": "PC-en min er ødelagt",
        },
    )
    stored = database.run(lambda s: notices.get_notice(s, teams.id))
    assert database.run(lambda s: notices.linked_ticket_ids(s, stored)) == []


async def test_a_told_notice_is_recorded_for_the_statistics(database, domain):
    teams = publish(database, title="Teams er nede")
    await answer(domain, "teams starter ikke", "teams_not_starting")
    await answer(domain, "pc-en min er ødelagt", "pc_broken")
    [f] = database.run(lambda s: notices.figures(s))
    assert (f.notice.id, f.conversations) == (teams.id, 1)


def test_the_widget_tokens_municipality_names_the_users_municipality(database):
    message_tracker = tracker(
        parse_data("er det bare meg?", "faq", article="sd_outages"),
        sender="intranet:kari",
        channel="socketio",
    )
    message_tracker.events[-1]["metadata"] = {
        "rakel_identity": {"id": "kari", "source": "intranet", "municipality": "Aukra"}
    }
    assert user_municipality(message_tracker) == "Aukra"
    # A value the catalogue does not know is ignored, not trusted.
    message_tracker.events[-1]["metadata"]["rakel_identity"]["municipality"] = "Oslo"
    assert user_municipality(message_tracker) is None


# --- a ticket request during a notice: "still want a ticket?" --------------------

TEAMS_QUESTION = user_event("teams starter ikke", "faq", article="teams_not_starting")


async def prepare(domain, history):
    dispatcher = CollectingDispatcher()
    events = await ActionPrepareTicket().run(
        dispatcher,
        tracker(parse_data("jeg vil melde en sak", "request_human"), history=history),
        domain,
    )
    return [m["response"] for m in dispatcher.messages], slot_values(events)


def slot_values(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def required(slots):
    return await ValidateTicketForm().required_slots(
        FORM_SLOTS_IN_DOMAIN,
        CollectingDispatcher(),
        tracker(parse_data("x", "inform"), slots=slots),
        {},
    )


FORM_SLOTS_IN_DOMAIN = [
    "ticket_despite_notice",
    "ticket_description",
    "ticket_municipality",
    "ticket_priority",
    "ticket_contact",
    "ticket_confirmed",
]


def test_the_form_in_the_domain_asks_the_notice_question_first(domain):
    assert domain["forms"]["ticket_form"]["required_slots"] == FORM_SLOTS_IN_DOMAIN


async def test_a_ticket_request_during_a_notice_about_its_topic_asks_first(database, domain):
    teams = publish(database, title="Teams er nede")
    responses, slots = await prepare(domain, [TEAMS_QUESTION])
    assert responses == [], "the notice's question comes instead of the form's intro"
    assert slots["ticket_notice"] == str(teams.id)
    assert slots["ticket_despite_notice"] is None
    assert await required(slots) == FORM_SLOTS_IN_DOMAIN

    dispatcher = CollectingDispatcher()
    await ActionAskTicketDespiteNotice().run(
        dispatcher, tracker(parse_data("x", "request_human"), slots=slots), domain
    )
    [asked] = dispatcher.messages
    assert asked["response"] == "utter_ask_ticket_despite_notice"
    assert asked["notice_title"] == "Teams er nede"
    buttons = domain["responses"]["utter_ask_ticket_despite_notice"][0]["buttons"]
    assert [(b["title"], b["payload"]) for b in buttons] == [("Ja", "/affirm"), ("Nei", "/deny")]
    [f] = database.run(lambda s: notices.figures(s))
    assert f.conversations == 1, "asking told the notice: it counts for the statistics"


async def test_without_a_notice_about_its_topic_the_form_starts_as_before(database, domain):
    publish(database, title="Visma er nede", service="visma")
    responses, slots = await prepare(domain, [TEAMS_QUESTION])
    assert responses == ["utter_ticket_intro"]
    assert slots["ticket_notice"] is None
    assert await required(slots) == FORM_SLOTS_IN_DOMAIN[1:]


@pytest.mark.parametrize(
    "text,intent,expected",
    [
        ("/affirm", "affirm", True),
        ("ja", "affirm", True),
        ("/deny", "deny", False),
        ("teams krasjer", "faq", None),
    ],
)
def test_the_answer_to_still_a_ticket(text, intent, expected):
    validated = ValidateTicketForm().validate_ticket_despite_notice(
        text, CollectingDispatcher(), tracker(parse_data(text, intent)), {}
    )
    assert validated == {"ticket_despite_notice": expected}


async def test_no_ends_the_form_politely_without_a_ticket(database, domain):
    publish(database, title="Teams er nede")
    slots = {"ticket_notice": "1", "ticket_despite_notice": False, "ticket_category": "teams"}
    assert await required(slots) == [], "nothing left to ask: the form ends"
    messages = await create_ticket(domain, slots)
    assert [m["response"] for m in messages] == ["utter_no_ticket_during_notice"]
    assert database.run(lambda s: s.query(Ticket).count()) == 0


async def test_yes_continues_the_form_and_the_ticket_is_linked(database, domain):
    teams = publish(database, title="Teams er nede")
    slots = {**FILLED, "ticket_notice": str(teams.id), "ticket_despite_notice": True}
    assert await required(slots) == FORM_SLOTS_IN_DOMAIN
    messages = await create_ticket(domain, slots)
    assert messages[0]["response"] == "utter_ticket_created"
    stored = database.run(lambda s: notices.get_notice(s, teams.id))
    assert database.run(lambda s: notices.linked_ticket_ids(s, stored)) == [1]


# --- notices before clarifiers and "Mente du …?" --------------------------------


async def test_a_vague_teams_message_gets_the_notice_before_the_topic_clarifier(database, domain):
    publish(database, title="Teams er nede")
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerArticle().run(
        dispatcher, tracker(parse_data("teams virker ikke", "faq")), domain
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_notice_before_question"]
    assert dispatcher.messages[0]["notice_title"] == "Teams er nede"
    assert slot_values(events)["knowledge_handover"] == "clarify_topic"
    pc = CollectingDispatcher()
    await ActionAnswerArticle().run(pc, tracker(parse_data("pc-en er treg", "faq")), domain)
    assert pc.messages == []


async def test_teams_suggestions_get_the_notice_before_mente_du(database, domain):
    publish(database, title="Teams er nede")
    close = THRESHOLDS.answer_confidence + 0.01
    message = parse_data(
        "teams på mobilen",
        "faq",
        ranking=[("teams_mobile", close), ("teams_not_starting", THRESHOLDS.suggest_confidence)],
    )
    message["intent_ranking"].append(
        {"name": "other_it", "confidence": close - THRESHOLDS.answer_margin + 0.005}
    )
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerArticle().run(dispatcher, tracker(message), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_notice_before_question"]
    assert slot_values(events)["knowledge_handover"] == "suggest"


def test_every_response_the_notice_actions_use_is_in_the_domain(domain):
    import bot.actions.notices as module

    used = set(re.findall(r'"(utter_[a-z_]+)"', Path(module.__file__).read_text()))
    assert used and used <= set(domain["responses"])

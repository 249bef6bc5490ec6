"""action_answer_article with outage notices: real trackers, domain and database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from rasa_sdk.executor import CollectingDispatcher

from bot import notices
from bot.actions import services
from bot.actions.knowledge import ActionAnswerArticle
from bot.actions.notices import user_municipality
from tests.notices.conftest import notice_values
from tests.support.trackers import parse_data, tracker


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
    from bot.actions.tickets import ActionCreateTicket

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

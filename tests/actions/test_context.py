"""Conversation context (bot/actions/context.py): topic clarifiers from the catalogue,
follow-ups placed within the current topic, topic switches, next-best articles."""

from __future__ import annotations

import json
import shutil

import pytest
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import services
from bot.actions.context import ActionOfferNextBest, ActionTopicClarifier, plan, words
from bot.actions.decision import THRESHOLDS
from bot.actions.knowledge import ActionAnswerArticle
from bot.content.catalogue import Catalogue, catalogue
from bot.content.files import ContentError
from bot.settings import PROJECT_ROOT
from tests.support.trackers import parse_data, tracker


@pytest.fixture(scope="module")
def content() -> Catalogue:
    return catalogue()


async def run(action, tracker_, domain):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker_, domain)
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def payload_article(button):
    return json.loads(button["payload"][len("/faq") :])["article_id"]


# --- vague messages -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("teams virker ikke", "teams"),
        ("pc-en er treg", "pc_replacement"),
        ("får ikke logget inn", "two_factor"),
        ("Hjemmekontoret funker ikke!", "home_office"),
    ],
)
def test_a_vague_message_about_a_topic_gets_that_topics_clarifier(content, text, topic):
    # The selector may well be sure of an article ("teams virker ikke" ->
    # teams_not_starting at 0.79): the message still does not say what is wrong.
    message = parse_data(text, "faq", ranking=[("teams_not_starting", 0.79), ("pc_slow", 0.1)])
    assert plan(message, None, content).kind == "clarify_topic"
    assert plan(message, None, content).topic == topic


def test_a_vague_message_without_a_topic_asks_for_the_conversations_topic(content):
    message = parse_data("det virker ikke", "vague_problem")
    assert plan(message, None, content).topic is None
    assert plan(message, "teams", content).topic == "teams"


def test_a_specific_message_naming_a_topic_is_not_vague(content):
    message = parse_data("kameraet virker ikke i teams", "faq", article="teams_camera_sound")
    assert plan(message, None, content).article == "teams_camera_sound"


async def test_topic_clarifier_buttons_are_the_catalogues_common_problems(database, domain):
    messages, slots = await run(
        ActionTopicClarifier(),
        tracker(parse_data("teams virker ikke", "faq"), slots={"current_topic": "teams"}),
        domain,
    )
    content = services.catalogue()
    problems = [a.id for a in content.common_problems("teams")]
    assert messages[0]["response"] == "utter_topic_clarifier"
    assert messages[0]["topic_label"] == "Teams"
    buttons = messages[0]["buttons"]
    assert [payload_article(b) for b in buttons[:-1]] == problems
    assert [b["title"] for b in buttons[:-1]] == [content.articles[a].title for a in problems]
    assert buttons[-1] == {"title": "Noe annet", "payload": "/request_human"}
    assert "teams_camera_sound" in problems
    assert slots == {"next_best": problems, "next_best_offered": False}


async def test_marking_an_article_common_adds_its_button(tmp_path, monkeypatch, database, domain):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge", knowledge)
    article = knowledge / "teams" / "teams_live_captions.yml"
    text = article.read_text(encoding="utf-8")
    article.write_text(
        text.replace("needs_person: false", "needs_person: false\ncommon_problem: true")
    )
    monkeypatch.setenv("RAKEL_KNOWLEDGE_DIR", str(knowledge))
    services.reset()
    messages, _ = await run(
        ActionTopicClarifier(),
        tracker(parse_data("teams virker ikke", "faq"), slots={"current_topic": "teams"}),
        domain,
    )
    assert "teams_live_captions" in [payload_article(b) for b in messages[0]["buttons"][:-1]]


async def test_without_a_topic_the_clarifier_asks_which_topic(database, domain):
    messages, slots = await run(
        ActionTopicClarifier(), tracker(parse_data("hjelp", "vague_problem")), domain
    )
    assert messages[0]["response"] == "utter_clarify_problem"
    buttons = messages[0]["buttons"]
    assert [b["title"] for b in buttons] == [
        "Teams",
        "Tofaktor-pålogging",
        "Hjemmekontor",
        "PC-bytte",
        "Noe annet",
    ]
    assert buttons[0]["payload"] == '/vague_problem{"topic": "teams"}'
    assert slots == {"current_topic": None}


def test_a_topic_button_opens_that_topics_clarifier(content):
    message = parse_data(
        "/vague_problem", "vague_problem", entities=[{"entity": "topic", "value": "pc_replacement"}]
    )
    assert plan(message, "teams", content).topic == "pc_replacement"


def test_a_topic_word_in_two_topics_is_refused(tmp_path):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge", knowledge)
    path = knowledge / "catalogue.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("words: [teams,", "words: [vpn, teams,")
    )
    with pytest.raises(ContentError, match="'vpn' is listed under both"):
        Catalogue.load(knowledge)


# --- follow-ups -----------------------------------------------------------------


def test_a_one_word_follow_up_is_answered_within_the_current_topic(content):
    # "lyden" alone: the selector is unsure and its best guess is another topic's.
    message = parse_data(
        "lyden",
        "faq",
        ranking=[
            ("mfa_what_why", THRESHOLDS.answer_confidence - 0.01),
            ("teams_camera_sound", THRESHOLDS.answer_confidence - 0.05),
            ("teams_tips", 0.06),
        ],
    )
    assert plan(message, None, content).kind != "answer"
    placed = plan(message, "teams", content)
    assert placed.article == "teams_camera_sound"
    assert placed.in_context
    assert placed.next_best == ("teams_tips",)


def test_an_elliptic_follow_up_gets_the_topics_variant(content):
    message = parse_data(
        "på mobilen",
        "faq",
        ranking=[("mfa_phone_not_with_me", 0.41), ("teams_mobile", 0.31), ("sd_phone", 0.04)],
    )
    assert plan(message, "teams", content).article == "teams_mobile"
    assert plan(message, "two_factor", content).article == "mfa_phone_not_with_me"


def test_a_follow_up_with_close_articles_in_the_topic_is_suggested_not_guessed(content):
    message = parse_data(
        "og telefonen",
        "faq",
        ranking=[("sd_phone", 0.4), ("teams_mobile", 0.05), ("teams_mobile_switchboard", 0.05)],
    )
    placed = plan(message, "teams", content)
    assert placed.kind == "suggest"
    assert placed.articles == ("teams_mobile", "teams_mobile_switchboard")


def test_a_follow_up_naming_another_topic_switches(content):
    message = parse_data(
        "og tofaktor?",
        "faq",
        ranking=[("teams_tips", 0.3), ("mfa_what_why", 0.6)],
    )
    assert plan(message, "teams", content).kind != "answer" or (
        plan(message, "teams", content).article != "teams_tips"
    )


def test_a_short_question_placed_confidently_elsewhere_switches(content):
    message = parse_data(
        "bytte passord",
        "faq",
        0.99,
        ranking=[("mfa_change_password", 0.95), ("teams_tips", 0.01)],
    )
    assert plan(message, "teams", content).article == "mfa_change_password"


def test_a_clear_new_question_is_not_bent_to_the_old_topic(content):
    message = parse_data(
        "hvordan kobler jeg meg til jobbsystemene hjemmefra via vpn",
        "faq",
        0.99,
        ranking=[("home_remote_access", 0.9), ("teams_meeting_join", 0.05)],
    )
    assert plan(message, "teams", content).article == "home_remote_access"


def test_other_it_follow_up_is_answered_when_the_topic_places_it_clearly(content):
    message = parse_data(
        "og skriveren?", "other_it", ranking=[("home_printing", 0.45), ("sd_about_rakel", 0.16)]
    )
    assert plan(message, "home_office", content).article == "home_printing"
    assert plan(message, None, content).kind == "other_it"
    assert plan(message, "teams", content).kind == "other_it"


def test_words_keep_compounds_and_drop_punctuation():
    assert words("PC-en er treg!!") == ["pc-en", "er", "treg"]
    assert words("og kameraet?") == ["og", "kameraet"]


# --- the answer action and "nei" ------------------------------------------------


async def test_an_answer_stores_the_topic_and_the_next_best(database, domain):
    message = parse_data(
        "mikrofonen virker ikke i teams",
        "faq",
        0.99,
        ranking=[
            ("teams_camera_sound", 0.8),
            ("teams_devices_buy", 0.1),
            ("pc_broken", 0.06),
            ("teams_tips", 0.01),
        ],
    )
    _, slots = await run(ActionAnswerArticle(), tracker(message), domain)
    assert slots["current_topic"] == "teams"
    assert slots["next_best"] == ["teams_devices_buy", "pc_broken"]
    assert slots["next_best_offered"] is False


async def test_a_picked_button_keeps_the_other_buttons_as_next_best(database, domain):
    message = parse_data("/faq", "faq", entities=[{"entity": "article_id", "value": "pc_slow"}])
    slots_before = {
        "next_best": ["pc_broken", "pc_slow", "pc_disk_full"],
        "next_best_offered": False,
    }
    _, slots = await run(ActionAnswerArticle(), tracker(message, slots=slots_before), domain)
    assert slots["last_article"] == "pc_slow"
    assert slots["next_best"] == ["pc_broken", "pc_disk_full"]
    assert "next_best_offered" not in slots


async def test_a_vague_message_hands_over_to_the_topic_clarifier(database, domain):
    messages, slots = await run(
        ActionAnswerArticle(), tracker(parse_data("teams virker ikke", "faq")), domain
    )
    assert messages == []
    assert slots == {
        "article_needs_person": None,
        "knowledge_handover": "clarify_topic",
        "current_topic": "teams",
    }


async def test_no_to_an_answer_offers_the_next_best_once(database, domain):
    knowledge = services.knowledge()
    state = {
        "last_article": "pc_slow",
        "next_best": ["pc_broken", "pc_disk_full", "pc_freeze_crash"],
        "next_best_offered": False,
    }
    messages, slots = await run(
        ActionOfferNextBest(), tracker(parse_data("nei", "deny"), slots=state), domain
    )
    assert messages[0]["response"] == "utter_next_best"
    buttons = messages[0]["buttons"]
    assert [b["title"] for b in buttons] == [
        knowledge.get("pc_broken").title,
        knowledge.get("pc_disk_full").title,
        "Ingen av disse",
    ]
    assert buttons[-1]["payload"] == "/deny"
    assert slots == {
        "recovery_exhausted": False,
        "next_best_offered": True,
        "next_best": ["pc_broken", "pc_disk_full"],
    }

    second = {**state, "next_best_offered": True, "last_article": "pc_broken"}
    messages, slots = await run(
        ActionOfferNextBest(), tracker(parse_data("nei", "deny"), slots=second), domain
    )
    assert messages == []
    assert slots["recovery_exhausted"] is True


async def test_no_with_nothing_close_goes_to_the_ticket_offer(database, domain):
    state = {"last_article": "pc_slow", "next_best": ["pc_slow"], "next_best_offered": False}
    messages, slots = await run(
        ActionOfferNextBest(), tracker(parse_data("nei", "deny"), slots=state), domain
    )
    assert messages == []
    assert slots == {"recovery_exhausted": True, "next_best": None}

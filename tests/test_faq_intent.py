"""`faq/<article id>`: built and read in bot/content/faq_intent.py only."""

from __future__ import annotations

from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.content import faq_intent
from bot.content.catalogue import catalogue
from bot.settings import PROJECT_ROOT
from tests.support.trackers import parse_data


def test_an_article_is_the_full_retrieval_intent_of_its_id():
    article = next(iter(catalogue().articles.values()))
    assert article.intent == faq_intent.full_intent(article.id) == f"faq/{article.id}"
    assert faq_intent.article_of(article.intent) == article.id
    assert catalogue().topic_of(article.intent) == article.topic
    assert faq_intent.article_of("greet") is None and faq_intent.article_of("faq/") is None


def test_a_did_you_mean_button_names_its_article_as_rasa_parses_it():
    # The payload action_clarify puts on a button, parsed by Rasa's own payload reader,
    # is the article the answer action picks.
    payload = faq_intent.button_payload("mfa_lost_phone")
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    parsed = YAMLStoryReader.unpack_regex_message(Message({TEXT: payload}), domain)
    parse = {"intent": parsed.get("intent"), "entities": parsed.get("entities")}
    assert parse["intent"]["name"] == faq_intent.FAQ
    assert faq_intent.chosen_article(parse) == "mfa_lost_phone"


def test_the_selectors_pick_and_ranking_are_read_as_article_ids():
    parse = parse_data("vpn", "faq", ranking=[("vpn_connect", 0.7), ("vpn_slow", 0.2)])
    assert faq_intent.selected_article(parse) == "vpn_connect"
    assert faq_intent.article_ranking(parse) == [("vpn_connect", 0.7), ("vpn_slow", 0.2)]
    assert faq_intent.intent_with_article("faq", parse) == "faq/vpn_connect"
    assert faq_intent.intent_with_article("greet", parse) == "greet"
    assert faq_intent.intent_with_article("faq", parse_data("hm", "faq")) == "faq"

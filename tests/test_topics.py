"""bot/data/topics.yml maps every intent of the domain to exactly one topic."""

from __future__ import annotations

import pytest
import yaml
from rasa.shared.core.constants import DEFAULT_INTENTS
from rasa.shared.core.domain import Domain

from bot.settings import PROJECT_ROOT
from bot.topics import TOPICS, TopicMap


@pytest.fixture(scope="module")
def topics() -> TopicMap:
    return TopicMap.load()


def test_every_domain_intent_has_exactly_one_topic(topics):
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    # out_of_scope is one of Rasa's default intents; ours has a topic like the rest.
    plain = {
        i
        for i in domain.intents
        if i != "faq" and (i not in DEFAULT_INTENTS or i == "out_of_scope")
    }
    mapped = {i for i in topics.by_intent if not i.startswith("faq/")}
    assert plain == mapped
    assert set(topics.by_intent.values()) == set(TOPICS)


def test_retrieval_intents_are_listed_by_full_name(topics):
    assert topics.topic_of("faq/mfa_lost_phone") == "two_factor"
    assert topics.topic_of("faq/pc_rollout") == "pc_replacement"
    assert topics.topic_of("unknown_intent") == "service_desk"


def test_an_intent_under_two_topics_is_rejected(tmp_path):
    path = tmp_path / "topics.yml"
    path.write_text(yaml.safe_dump({"topics": {"teams": ["greet"], "chitchat": ["greet"]}}))
    with pytest.raises(ValueError, match="both"):
        TopicMap.load(path)


def test_an_unknown_topic_is_rejected(tmp_path):
    path = tmp_path / "topics.yml"
    path.write_text(yaml.safe_dump({"topics": {"weather": ["greet"]}}))
    with pytest.raises(ValueError, match="unknown topics"):
        TopicMap.load(path)

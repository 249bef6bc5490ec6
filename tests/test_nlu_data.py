"""The training data is varied enough and the held-out set really is held out."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from bot.settings import PROJECT_ROOT
from bot.topics import TopicMap

HELDOUT = PROJECT_ROOT / "tests" / "data" / "heldout_nlu.yml"


def normalise(text: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # drop entity annotations
    return " ".join(re.sub(r"[^\wæøå]+", " ", text.lower()).split())


@pytest.fixture(scope="module")
def training():
    return load_data(str(PROJECT_ROOT / "bot" / "data" / "nlu"))


def full_intent(example) -> str:
    return example.get("intent_response_key") or example.get("intent")


def test_every_intent_has_at_least_25_distinct_examples(training):
    counts = Counter(full_intent(e) for e in training.intent_examples)
    topics = TopicMap.load()
    assert set(counts) == set(topics.by_intent)
    assert {i: n for i, n in counts.items() if n < 25} == {}


def test_no_training_example_is_repeated(training):
    texts = Counter(normalise(e.get("text")) for e in training.intent_examples)
    assert [t for t, n in texts.items() if n > 1 and len(t) > 3] == []


def test_heldout_messages_are_not_in_the_training_data(training):
    trained = {normalise(e.get("text")) for e in training.intent_examples}
    heldout = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))["messages"]
    assert len(heldout) >= 150
    leaked = [m["text"] for m in heldout if normalise(m["text"]) in trained]
    assert leaked == []


def test_heldout_labels_use_known_topics_and_intents():
    topics = TopicMap.load()
    heldout = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))["messages"]
    for message in heldout:
        assert message["topic"] in set(topics.by_intent.values()), message
        if "intent" in message:
            assert topics.topic_of(message["intent"], default="?") == message["topic"], message


def test_former_municipalities_map_to_molde(training):
    assert training.entity_synonyms.get("midsund") == "Molde"
    assert training.entity_synonyms.get("nesset") == "Molde"

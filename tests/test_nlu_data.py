"""The training data is varied enough and the held-out set really is held out."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from bot.content.catalogue import catalogue
from bot.settings import PROJECT_ROOT, load_settings
from bot.tickets.labels import match_municipality
from bot.train import write_catalogue_data

HELDOUT = PROJECT_ROOT / "tests" / "data" / "heldout_nlu.yml"


def normalise(text: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # drop entity annotations
    return " ".join(re.sub(r"[^\wæøå]+", " ", text.lower()).split())


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The catalogue's training data, generated as `make train` does."""
    settings = load_settings({"RAKEL_VAR_DIR": str(tmp_path_factory.mktemp("var"))})
    return write_catalogue_data(settings)


@pytest.fixture(scope="module")
def training(generated):
    hand_written = load_data(str(PROJECT_ROOT / "bot" / "data" / "nlu"))
    return hand_written.merge(load_data(str(generated)))


def test_the_catalogue_generates_nlu_data_that_rasa_loads(generated):
    data = load_data(str(generated))
    content = catalogue()
    keys = {e.get("intent_response_key") for e in data.intent_examples}
    assert keys == {f"faq/{article_id}" for article_id in content.articles}
    for article in content.articles.values():
        examples = [
            e for e in data.intent_examples if e.get("intent_response_key") == article.intent
        ]
        assert [e.get("text") for e in examples] == article.example_texts()
    assert set(data.responses) == {f"utter_faq/{article_id}" for article_id in content.articles}
    # Municipality words: one declaration, which the form's matching reads.
    assert match_municipality("jobber på åndalsnes") == "Rauma"
    assert match_municipality("eg er på gossen") == "Aukra"


def full_intent(example) -> str:
    return example.get("intent_response_key") or example.get("intent")


def test_every_intent_has_at_least_25_distinct_examples(training):
    counts = Counter(full_intent(e) for e in training.intent_examples)
    assert set(counts) == set(catalogue().topic_by_intent)
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
    content = catalogue()
    heldout = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))["messages"]
    for message in heldout:
        assert message["topic"] in content.topics, message
        if "intent" in message:
            assert content.topic_of(message["intent"], default="?") == message["topic"], message


def test_former_municipalities_map_to_molde():
    assert match_municipality("midsund") == "Molde"
    assert match_municipality("Nesset kommune") == "Molde"

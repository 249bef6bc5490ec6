"""The real-question evaluation measures generalisation, not memory: its sources are
kept apart from the training side's, dev apart from test, and no message is trained on."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from rasa.shared.nlu.training_data.loading import load_data

from bot.content.catalogue import catalogue
from bot.evaluation.survey import SurveyError, load_messages, load_survey
from bot.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def article_topics() -> dict[str, str]:
    return {a.id: a.topic for a in catalogue().articles.values()}


@pytest.fixture(scope="module")
def survey(article_topics):
    return load_survey(article_topics)


@pytest.fixture(scope="module")
def messages(survey):
    return load_messages(survey)


def normalise(text: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return " ".join(re.sub(r"[^\wæøå]+", " ", text.lower()).split())


def test_no_organisation_feeds_both_training_and_evaluation(survey):
    train, evaluation = survey.orgs("train"), survey.orgs("eval")
    assert train and evaluation
    assert train & evaluation == set()
    # Every question type names only sources of its own side.
    for qtype in survey.types.values():
        assert {survey.sources[org].side for org in qtype.orgs} == {qtype.side}, qtype.id


def test_dev_and_test_come_from_different_organisations(survey, messages):
    orgs = {split: {m.org for m in messages if m.split == split} for split in ("dev", "test")}
    assert orgs["dev"] and orgs["test"]
    assert orgs["dev"] & orgs["test"] == set()
    for message in messages:
        assert survey.sources[message.org].side == "eval"


def test_the_evaluation_set_is_large_and_varied_enough(messages):
    assert len(messages) >= 400
    languages = Counter(m.lang for m in messages)
    assert languages["nn"] >= 100
    kinds = Counter(m.type.expect.kind for m in messages)
    assert kinds["other_it"] >= 60
    hr = [
        m for m in messages if m.type.expect.kind == "out_of_scope" and m.type.expect.value == "hr"
    ]
    assert len(hr) >= 60
    for split in ("dev", "test"):
        topics = Counter(m.type.expect.topic for m in messages if m.split == split)
        for topic in catalogue().article_topics():
            assert topics[topic] >= 5, (split, topic)


def test_no_evaluation_message_is_in_the_training_data(messages, tmp_path):
    from bot.settings import load_settings
    from bot.train import write_catalogue_data

    generated = write_catalogue_data(load_settings({"RAKEL_VAR_DIR": str(tmp_path)}))
    training = load_data(str(PROJECT_ROOT / "bot" / "data" / "nlu")).merge(
        load_data(str(generated))
    )
    trained = {normalise(e.get("text")) for e in training.intent_examples}
    leaked = [m.text for m in messages if normalise(m.text) in trained]
    assert leaked == []


def test_an_organisation_on_both_sides_is_refused(tmp_path, article_topics):
    (tmp_path / "a.yml").write_text(
        "side: train\nsources:\n  - {org: molde-kommune, name: Molde}\nquestion_types: []\n",
        encoding="utf-8",
    )
    (tmp_path / "b.yml").write_text(
        "side: eval\nsources:\n  - {org: molde-kommune, name: Molde, split: test}\n"
        "question_types: []\n",
        encoding="utf-8",
    )
    with pytest.raises(SurveyError, match="molde-kommune.*already a source of the train side"):
        load_survey(article_topics, tmp_path)

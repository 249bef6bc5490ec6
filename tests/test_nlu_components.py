"""Our Rasa NLU components with the real e5 model: features, training, ranking output."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.actions.decision import THRESHOLDS, decide
from bot.nlu.confirmed_fallback import ConfirmedFallbackClassifier
from bot.nlu.e5_featurizer import E5Featurizer
from bot.nlu.reply_classifier import ReplyClassifier

EXAMPLES = {
    "faq/mfa_new_phone": [
        "jeg har fått ny mobil, hvordan flytter jeg authenticator",
        "ny telefon authenticator",
        "skal bytte mobil, hva gjør jeg med tofaktor",
        "flytte godkjenningsappen til ny iphone",
    ],
    "faq/teams_camera_sound": [
        "ingen hører meg i teams",
        "kameraet er svart i teamsmøtet",
        "headsettet virker ikke i teams",
        "mikrofonen fungerer ikke på teams",
    ],
    "other_it": [
        "skriveren på kontoret skriver ikke ut",
        "printeren har papirstopp",
        "kopimaskinen vil ikke skrive ut",
        "skrivaren skriv ikkje ut",
    ],
}


@pytest.fixture(scope="module")
def featurizer() -> E5Featurizer:
    context = ExecutionContext(graph_schema=None, node_name="e5")  # type: ignore[arg-type]
    return E5Featurizer.create({"alias": "e5"}, None, None, context)  # type: ignore[arg-type]


def message(text: str, label: str | None = None) -> Message:
    data = {TEXT: text}
    if label and "/" in label:
        data.update(intent=label.split("/")[0], intent_response_key=label)
    elif label:
        data.update(intent=label)
    return Message(data=data)


def test_the_featurizer_adds_one_normalised_sentence_feature(featurizer):
    [featured] = featurizer.process([message("teams virker ikke")])
    sequence, sentence = featured.get_dense_features(TEXT, ["e5"])
    assert sequence is None
    assert sentence.features.shape == (1, 384)
    assert abs(float((sentence.features**2).sum()) - 1.0) < 1e-3


@pytest.fixture(scope="module")
def trained(featurizer, tmp_path_factory) -> ReplyClassifier:
    training = TrainingData(
        [message(text, label) for label, texts in EXAMPLES.items() for text in texts]
    )
    featurizer.process_training_data(training)
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    resource = Resource("classifier")
    context = ExecutionContext(graph_schema=None, node_name="classifier")  # type: ignore[arg-type]
    config = {"retrieval_intent": "faq", "featurizer": "e5"}
    ReplyClassifier.create(config, storage, resource, context).train(training)
    # What a restarted server does: load it back from the model storage.
    return ReplyClassifier.load(config, storage, resource, context)


def parsed(featurizer, classifier, text: str) -> dict:
    [featured] = featurizer.process([message(text)])
    [result] = classifier.process([featured])
    return result.as_dict_nlu()


def test_an_article_question_gets_the_faq_intent_and_the_article_ranking(featurizer, trained):
    output = parsed(featurizer, trained, "fikk ny iphone i dag, hvordan får jeg med authenticator")
    assert output["intent"]["name"] == "faq"
    selector = output["response_selector"]
    assert selector["all_retrieval_intents"] == ["faq"]
    ranking = selector["faq"]["ranking"]
    assert [entry["intent_response_key"] for entry in ranking] == [
        "faq/mfa_new_phone",
        "faq/teams_camera_sound",
    ]
    assert selector["faq"]["response"]["intent_response_key"] == "faq/mfa_new_phone"
    # One distribution over all labels: faq is as likely as its best article.
    intents = {e["name"]: e["confidence"] for e in output["intent_ranking"]}
    assert abs(intents["faq"] - ranking[0]["confidence"]) < 1e-6
    assert output["intent"]["confidence"] == intents["faq"] == max(intents.values())
    # The nearest training examples are of the same article: a confirmed answer.
    assert output["nearest_examples"]["label"] == "faq/mfa_new_phone"
    assert 0.0 < output["nearest_examples"]["similarity"] <= 1.0
    # The decision reads it as it read the ResponseSelector's output.
    assert decide(output).articles[0] == "mfa_new_phone"


def test_another_it_question_gets_its_own_intent_with_typos(featurizer, trained):
    output = parsed(featurizer, trained, "skrivern skriver ikke ut lenger")
    assert output["intent"]["name"] == "other_it"
    assert output["intent_ranking"][0]["name"] == "other_it"


def test_an_article_that_barely_beats_another_kind_of_reply_is_not_stated():
    # The best article clears the answer threshold, but "other IT" is the more likely
    # reply: the decision asks instead of stating the article.
    best = max(THRESHOLDS.answer_confidence, THRESHOLDS.suggest_confidence) + 0.1
    second = THRESHOLDS.suggest_confidence + 0.01
    parse = {
        "intent": {"name": "faq", "confidence": best},
        "intent_ranking": [
            {"name": "other_it", "confidence": best + 0.01},
            {"name": "faq", "confidence": best},
        ],
        "response_selector": {
            "faq": {
                "ranking": [
                    {"intent_response_key": "faq/mfa_new_phone", "confidence": best},
                    {"intent_response_key": "faq/teams_camera_sound", "confidence": second},
                ]
            }
        },
        "nearest_examples": {"label": "faq/mfa_new_phone", "similarity": 0.9},
    }
    decision = decide(parse)
    assert decision.outcome == "clarify"
    assert decision.articles == ("mfa_new_phone", "teams_camera_sound")
    parse["intent_ranking"][0]["confidence"] = 0.05
    assert decide(parse).outcome == "answer"


def _fallback_result(nearest: str, confidence: float, top: str = "other_it") -> str:
    fallback = ConfirmedFallbackClassifier.create(
        {
            **ConfirmedFallbackClassifier.get_default_config(),
            "threshold": 0.2,
            "unconfirmed_threshold": 0.5,
        },
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
    )
    intent, _, article = top.partition("/")
    data = {
        TEXT: "skrivaren min",
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "nearest_examples": {"label": nearest, "similarity": 0.9},
    }
    if article:
        ranking = [{"intent_response_key": top, "confidence": confidence}]
        data["response_selector"] = {"faq": {"response": ranking[0], "ranking": ranking}}
    [result] = fallback.process([Message(data=data)])
    return result.get("intent")["name"]


def test_a_top_label_the_nearest_examples_confirm_is_trusted_at_a_lower_confidence():
    assert _fallback_result("other_it", 0.3) == "other_it"
    assert _fallback_result("faq/pc_broken", 0.3) == "nlu_fallback"
    assert _fallback_result("out_of_scope_hr", 0.3) == "nlu_fallback"
    assert _fallback_result("faq/pc_broken", 0.6) == "other_it"
    assert _fallback_result("other_it", 0.1) == "nlu_fallback"
    # A knowledge question is confirmed by examples of any article (which one is the
    # probability's to say), not by examples of other IT.
    assert _fallback_result("faq/pc_freeze_crash", 0.3, top="faq/pc_broken") == "faq"
    assert _fallback_result("other_it", 0.3, top="faq/pc_broken") == "nlu_fallback"
    assert _fallback_result("other_it", 0.6, top="faq/pc_broken") == "faq"


def test_an_untrained_classifier_classifies_nothing(featurizer, tmp_path):
    context = ExecutionContext(graph_schema=None, node_name="classifier")  # type: ignore[arg-type]
    classifier = ReplyClassifier.load({}, LocalModelStorage(tmp_path), Resource("x"), context)
    [featured] = featurizer.process([message("hei")])
    [result] = classifier.process([featured])
    assert "response_selector" not in result.as_dict_nlu()
    assert result.get("intent") == {"name": None, "confidence": 0.0}


@pytest.mark.parametrize("text", ["   ", "\n\t", ""])
def test_blank_text_falls_back_instead_of_breaking_the_pipeline(featurizer, trained, text):
    # Blank text gets no e5 feature; the FallbackClassifier after us needs an intent to
    # read (a KeyError there left the user without any reply).
    [featured] = featurizer.process([message(text)])
    [classified] = trained.process([featured])
    fallback = ConfirmedFallbackClassifier.create(
        {**ConfirmedFallbackClassifier.get_default_config(), "threshold": 0.4}, None, None, None
    )
    [result] = fallback.process([classified])
    assert result.get("intent")["name"] == "nlu_fallback"


def test_training_embeds_a_text_once_and_reads_it_from_the_cache_after(
    featurizer, tmp_path, monkeypatch, caplog
):
    monkeypatch.setenv("RAKEL_EMBEDDING_CACHE", str(tmp_path))
    texts = ["kopimaskinen i gangen tar ikke imot jobber", "teams er tregt i dag"]
    caplog.set_level("INFO", logger="bot.nlu.e5_featurizer")
    first = TrainingData([message(t, "other_it") for t in texts])
    featurizer.process_training_data(first)
    assert "2 embedded, 0 from the cache" in caplog.text
    caplog.clear()
    again = TrainingData([message(t, "other_it") for t in texts])
    featurizer.process_training_data(again)
    assert "0 embedded, 2 from the cache" in caplog.text
    for cached, fresh in zip(
        again.training_examples, featurizer.process([message(t) for t in texts]), strict=True
    ):
        _, a = cached.get_dense_features(TEXT, ["e5"])
        _, b = fresh.get_dense_features(TEXT, ["e5"])
        assert abs(a.features - b.features).max() < 1e-6


def test_fine_tuning_continues_from_the_live_classifier(featurizer, tmp_path):
    """`rasa train --finetune` (the trainer, new examples for the same labels) starts
    from the loaded weights and n-gram vocabulary instead of refitting them."""
    base = [message(text, label) for label, texts in EXAMPLES.items() for text in texts]
    training = TrainingData(base)
    featurizer.process_training_data(training)
    storage = LocalModelStorage(tmp_path)
    resource = Resource("classifier")
    context = ExecutionContext(graph_schema=None, node_name="classifier")  # type: ignore[arg-type]
    config = {"retrieval_intent": "faq", "featurizer": "e5"}
    ReplyClassifier.create(config, storage, resource, context).train(training)
    live_vectorizer, live, _ = ReplyClassifier.load(config, storage, resource, context)._trained
    vocabulary = dict(live_vectorizer.vocabulary_)

    more = TrainingData(
        [message(text, label) for label, texts in EXAMPLES.items() for text in texts]
        + [message("kopimaskinen i gangen tar ikke imot jobber", "other_it")]
    )
    featurizer.process_training_data(more)
    tuning = ExecutionContext(graph_schema=None, node_name="classifier", is_finetuning=True)  # type: ignore[arg-type]
    tuned = ReplyClassifier.load(config, storage, resource, tuning)
    tuned.train(more)
    vectorizer, classifier, neighbours = tuned._trained
    assert vectorizer.vocabulary_ == vocabulary  # the live model's columns
    assert list(classifier.classes_) == list(live.classes_)
    assert classifier.warm_start  # continued from the live weights, not refitted
    assert (
        tuned.ranking(featurizer.process([message("kopimaskinen tar ikke imot jobber")])[0])[0][0]
        == "other_it"
    )
    # The neighbours are rebuilt from every example, the new one included.
    assert len(neighbours.vectors) == len(base) + 1

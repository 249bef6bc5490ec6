"""Our Rasa NLU components with the real e5 model: features, training, ranking output."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.actions.decision import decide
from bot.nlu.article_selector import E5ArticleSelector
from bot.nlu.e5_featurizer import E5Featurizer

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
}


@pytest.fixture(scope="module")
def featurizer() -> E5Featurizer:
    context = ExecutionContext(graph_schema=None, node_name="e5")  # type: ignore[arg-type]
    return E5Featurizer.create({"alias": "e5"}, None, None, context)  # type: ignore[arg-type]


def message(text: str, key: str | None = None) -> Message:
    data = {TEXT: text}
    if key:
        data.update(intent="faq", intent_response_key=key)
    return Message(data=data)


def test_the_featurizer_adds_one_normalised_sentence_feature(featurizer):
    [featured] = featurizer.process([message("teams virker ikke")])
    sequence, sentence = featured.get_dense_features(TEXT, ["e5"])
    assert sequence is None
    assert sentence.features.shape == (1, 384)
    assert abs(float((sentence.features**2).sum()) - 1.0) < 1e-3


def test_the_selector_trains_stores_and_ranks_in_the_response_selector_format(featurizer, tmp_path):
    training = TrainingData(
        [message(text, key) for key, texts in EXAMPLES.items() for text in texts]
    )
    featurizer.process_training_data(training)
    storage = LocalModelStorage(tmp_path)
    resource = Resource("selector")
    context = ExecutionContext(graph_schema=None, node_name="selector")  # type: ignore[arg-type]
    config = {"retrieval_intent": "faq", "featurizer": "e5"}
    E5ArticleSelector.create(config, storage, resource, context).train(training)

    loaded = E5ArticleSelector.load(config, storage, resource, context)
    [question] = featurizer.process(
        [message("fikk ny iphone i dag, hvordan får jeg med authenticator")]
    )
    [parsed] = loaded.process([question])
    output = parsed.as_dict_nlu()["response_selector"]
    assert output["all_retrieval_intents"] == ["faq"]
    ranking = output["faq"]["ranking"]
    assert [entry["intent_response_key"] for entry in ranking] == [
        "faq/mfa_new_phone",
        "faq/teams_camera_sound",
    ]
    assert output["faq"]["response"]["intent_response_key"] == "faq/mfa_new_phone"
    assert abs(sum(entry["confidence"] for entry in ranking) - 1.0) < 1e-6
    # The decision reads it as it read the ResponseSelector's output.
    parse = {"intent": {"name": "faq", "confidence": 0.99}, **parsed.as_dict_nlu()}
    assert decide(parse).articles[0] == "mfa_new_phone"


def test_an_untrained_selector_ranks_nothing(featurizer, tmp_path):
    context = ExecutionContext(graph_schema=None, node_name="selector")  # type: ignore[arg-type]
    selector = E5ArticleSelector.load({}, LocalModelStorage(tmp_path), Resource("x"), context)
    [featured] = featurizer.process([message("hei")])
    [parsed] = selector.process([featured])
    assert "response_selector" not in parsed.as_dict_nlu()

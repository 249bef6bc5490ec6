"""Which article answers a knowledge question: a logistic regression over e5 embeddings.

Takes the place of Rasa's ResponseSelector for the retrieval intent `faq`, and writes
its result in the same shape (`response_selector.faq.response` / `.ranking`), so the
actions, the decision (bot/actions/decision.py) and the evaluation read it unchanged.

Why not Rasa's ResponseSelector: measured on the dev split of the real-question
evaluation (docs/honest-answers.md), the trained selector put the right article first
for 43 % of article questions and took five of the eight training minutes. A
multinomial logistic regression on the e5 sentence embeddings the E5Featurizer has
already computed put it first for 85 %, trains in seconds, and its probabilities
separate right from wrong answers better (the top-1/top-2 gap), which is what honest
answers rest on. Nearest examples in e5 space (80 %) were a close second, with
smaller, less telling gaps.

`C` (weak regularisation: the examples are many and varied) was chosen on dev only.
"""

from __future__ import annotations

import logging
import pickle
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

FILE = "article_classifier.pkl"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class E5ArticleSelector(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "retrieval_intent": "faq",
            # the alias of the E5Featurizer whose sentence features are compared
            "featurizer": "e5",
            "C": 50.0,
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        classifier: Any = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._classifier = classifier

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5ArticleSelector:
        return cls(config, model_storage, resource)

    def _vector(self, message: Message) -> NDArray[np.float32] | None:
        _, sentence = message.get_dense_features(TEXT, [self._config["featurizer"]])
        if sentence is None:
            return None
        vector = np.asarray(sentence.features, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else None

    def train(self, training_data: TrainingData) -> Resource:
        intent = self._config["retrieval_intent"]
        vectors, labels = [], []
        for example in training_data.intent_examples:
            key = example.get(INTENT_RESPONSE_KEY)
            if example.get(INTENT) != intent or not key:
                continue
            vector = self._vector(example)
            if vector is not None:
                vectors.append(vector)
                labels.append(key)
        if not vectors:
            raise ValueError(
                f"E5ArticleSelector: no '{intent}' examples with '{self._config['featurizer']}' "
                "sentence features; is the E5Featurizer (with that alias) in the pipeline?"
            )
        from sklearn.linear_model import LogisticRegression

        classifier = LogisticRegression(C=float(self._config["C"]), max_iter=2000)
        classifier.fit(np.stack(vectors), np.array(labels))
        with self._model_storage.write_to(self._resource) as directory:
            (directory / FILE).write_bytes(pickle.dumps(classifier))
        self._classifier = classifier
        logger.info("E5ArticleSelector: %d examples of %d articles", len(vectors), len(set(labels)))
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> E5ArticleSelector:
        try:
            with model_storage.read_from(resource) as directory:
                # Our own file, written by train() into the model archive.
                classifier = pickle.loads((directory / FILE).read_bytes())  # noqa: S301
                return cls(config, model_storage, resource, classifier)
        except (ValueError, FileNotFoundError):
            logger.warning("E5ArticleSelector: no trained examples found; ranking nothing")
            return cls(config, model_storage, resource)

    def ranking(self, message: Message) -> list[tuple[str, float]]:
        """(intent response key, probability) for every article, best first."""
        if self._classifier is None:
            return []
        vector = self._vector(message)
        if vector is None:
            return []
        probabilities = self._classifier.predict_proba(vector[np.newaxis, :])[0]
        scores = zip(self._classifier.classes_.tolist(), probabilities.tolist(), strict=True)
        return sorted(scores, key=lambda item: -item[1])

    def process(self, messages: list[Message]) -> list[Message]:
        intent = self._config["retrieval_intent"]
        for message in messages:
            ranking = self.ranking(message)[: int(self._config["ranking_length"])]
            if not ranking:
                continue
            best, confidence = ranking[0]
            prediction = {
                "response": {
                    "responses": None,
                    "confidence": confidence,
                    "intent_response_key": best,
                    "utter_action": f"utter_{best}",
                },
                "ranking": [
                    {"id": index, "confidence": score, "intent_response_key": key}
                    for index, (key, score) in enumerate(ranking)
                ],
            }
            properties = message.get("response_selector") or {}
            properties["all_retrieval_intents"] = [intent]
            properties[intent] = prediction
            message.set("response_selector", properties, add_to_output=True)
        return messages

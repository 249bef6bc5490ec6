"""What kind of reply a message needs, and which article: one classifier for both.

One multinomial logistic regression over every label Rakel knows: each article
(`faq/<id>`) and every other intent (other IT, HR, out of scope, small talk, the
ticket form's answers, …). It reads the e5 sentence embedding (bot/nlu/e5_featurizer.py)
and character n-grams of the message, and writes Rasa's usual output: `intent` and
`intent_ranking` (an intent's confidence is the probability of its best label, so
`faq`'s is the best article's), and, for the retrieval intent, the article
ranking in the ResponseSelector's shape (`response_selector.faq`), so the actions, the
FallbackClassifier and the decision (bot/actions/decision.py) read it unchanged.

Why one classifier instead of DIET for the intent and a second model for the article:
measured on the dev split of the real-question evaluation (docs/honest-answers.md),
most confidently wrong replies were messages sent to the wrong *kind* of reply (an IT
question taken for HR or other IT), where DIET was sure and wrong; its confidence was
saturated and told the decision nothing. With every label in one model the
probabilities are calibrated against each other: an article that barely beats "other
IT" shows as a small margin, and the decision asks instead of stating it.

Why character n-grams beside e5: employees type fast ("tofaktr", "paalogging",
"teams funke ikke"); e5's sub-word vocabulary blurs such words, the n-grams keep
them. They are weighted by `char_weight` against the unit-length e5 vector, and the
vectorizer is fitted here, with the classifier, because its idf weights belong to the
same training data. `C`, `char_weight` and the n-gram range were chosen on dev only.

Why the nearest training examples beside the probabilities: on questions from
organisations the training side never saw, the regression's probability is low for
right and wrong replies alike (the probability of ~115 labels is spread thin). Whether
the training examples nearest in e5 space are of the same intent as the top label is
a second, independent opinion (bot/nlu/nearest.py). The label of the nearest examples
(the best mean similarity of a label's `neighbours` closest examples) is written as
`nearest_examples`; the fallback (bot/nlu/confirmed_fallback.py) asks for more
confidence when it disagrees.
"""

from __future__ import annotations

import logging
import pickle
from collections import Counter, defaultdict
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy import sparse

from bot.nlu.nearest import NEAREST

logger = logging.getLogger(__name__)

FILE = "reply_classifier.pkl"


class Neighbours:
    """Every training example's unit e5 vector, grouped by label. The model file keeps
    them in half precision (the similarity needs no more, and the file stays small);
    in memory they are single precision once, not converted per message."""

    def __init__(self, vectors: NDArray[np.float32], labels: list[str]) -> None:
        order = sorted(range(len(labels)), key=lambda i: labels[i])
        counts = Counter(labels)
        self.labels = sorted(counts)
        # label i's examples are vectors[starts[i]:starts[i + 1]]
        self.starts = np.cumsum([0, *(counts[label] for label in self.labels)])
        self.vectors = np.asarray(vectors, dtype=np.float32)[order]

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "vectors": self.vectors.astype(np.float16)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, vectors=state["vectors"].astype(np.float32))

    def nearest(self, vector: NDArray[np.float32], k: int) -> tuple[str, float]:
        """The label whose `k` closest examples are, on average, the most similar."""
        similarity = self.vectors @ vector
        best, best_score = "", -2.0
        for index, label in enumerate(self.labels):
            group = similarity[self.starts[index] : self.starts[index + 1]]
            closest = min(k, len(group))
            score = float(np.partition(group, -closest)[-closest:].mean())
            if score > best_score:
                best, best_score = label, score
        return best, best_score


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class ReplyClassifier(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "retrieval_intent": "faq",
            # the alias of the E5Featurizer whose sentence feature is read
            "featurizer": "e5",
            "C": 10.0,
            "char_weight": 0.5,
            "min_ngram": 2,
            "max_ngram": 4,
            "ranking_length": 10,
            # how many of a label's closest training examples make its similarity
            "neighbours": 3,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn", "scipy"]

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        trained: tuple[Any, ...] | None = None,
        finetuning: bool = False,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        # (character vectorizer, classifier, Neighbours), or None before training; a
        # model trained before the neighbours has no third entry.
        self._trained = trained
        # Loaded by `rasa train --finetune`: train() continues from `trained`.
        self._finetuning = finetuning

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ReplyClassifier:
        return cls(config, model_storage, resource)

    def _label(self, example: Message) -> str | None:
        intent = example.get(INTENT)
        if intent == self._config["retrieval_intent"]:
            return example.get(INTENT_RESPONSE_KEY) or None
        return intent or None

    def _e5(self, messages: list[Message]) -> NDArray[np.float32] | None:
        rows = []
        for message in messages:
            _, sentence = message.get_dense_features(TEXT, [self._config["featurizer"]])
            if sentence is None:
                return None
            vector = np.asarray(sentence.features, dtype=np.float32).reshape(-1)
            norm = float(np.linalg.norm(vector))
            rows.append(vector / norm if norm else vector)
        return np.stack(rows)

    def _features(self, vectorizer: Any, messages: list[Message]) -> Any:
        dense = self._e5(messages)
        if dense is None:
            return None
        chars = vectorizer.transform([m.get(TEXT) or "" for m in messages])
        weight = float(self._config["char_weight"])
        return sparse.hstack([sparse.csr_matrix(dense), weight * chars]).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        examples = [e for e in training_data.intent_examples if self._label(e)]
        if not examples or self._e5(examples) is None:
            raise ValueError(
                "ReplyClassifier: no examples with "
                f"'{self._config['featurizer']}' sentence features; is the E5Featurizer "
                "(with that alias) in the pipeline before it?"
            )
        if self._finetuning and self._trained is not None:
            # `rasa train --finetune` (bot/trainer.py, new examples for the same labels):
            # start from the live model's weights, on its n-gram vocabulary (new n-grams
            # are left out, as at prediction time), so the solver only has to follow the
            # change instead of starting from zero. docs/performance.md has the figures.
            vectorizer, classifier = self._trained[:2]
            classifier.set_params(warm_start=True)
        else:
            vectorizer = TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=(int(self._config["min_ngram"]), int(self._config["max_ngram"])),
                min_df=2,
                sublinear_tf=True,
            ).fit([e.get(TEXT) or "" for e in examples])
            classifier = LogisticRegression(C=float(self._config["C"]), max_iter=3000)
        labels = [str(self._label(e)) for e in examples]
        classifier.fit(self._features(vectorizer, examples), labels)
        # Always from every example: cheap, and a fine-tuned model's new examples count.
        neighbours = Neighbours(self._e5(examples), labels)  # type: ignore[arg-type]
        self._trained = (vectorizer, classifier, neighbours)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / FILE).write_bytes(pickle.dumps(self._trained))
        logger.info(
            "ReplyClassifier: %d examples of %d labels", len(examples), len(classifier.classes_)
        )
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ReplyClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                # Our own file, written by train() into the model archive.
                trained = pickle.loads((directory / FILE).read_bytes())  # noqa: S301
                return cls(
                    config, model_storage, resource, trained, execution_context.is_finetuning
                )
        except (ValueError, FileNotFoundError):
            logger.warning("ReplyClassifier: not trained; classifying nothing")
            return cls(config, model_storage, resource)

    def ranking(self, message: Message) -> list[tuple[str, float]]:
        """(label, probability) for every label, best first: articles as `faq/<id>`."""
        if self._trained is None:
            return []
        vectorizer, classifier = self._trained[:2]
        features = self._features(vectorizer, [message])
        if features is None:
            return []
        probabilities = classifier.predict_proba(features)[0]
        scores = zip(classifier.classes_.tolist(), probabilities.tolist(), strict=True)
        return sorted(scores, key=lambda item: -item[1])

    def nearest(self, message: Message) -> dict[str, Any] | None:
        """The label of the training examples nearest to the message, and their mean
        similarity (None for a model without neighbours or a message without e5)."""
        if self._trained is None or len(self._trained) < 3:
            return None
        vector = self._e5([message])
        if vector is None:
            return None
        label, similarity = self._trained[2].nearest(vector[0], int(self._config["neighbours"]))
        return {"label": label, "similarity": round(similarity, 4)}

    def process(self, messages: list[Message]) -> list[Message]:
        retrieval = self._config["retrieval_intent"]
        length = int(self._config["ranking_length"])
        for message in messages:
            ranking = self.ranking(message)
            if not ranking:
                # Nothing to classify (blank text has no e5 feature; or not trained):
                # no intent, as Rasa's own classifiers say it, so the FallbackClassifier
                # (which needs an intent to read) turns it into nlu_fallback.
                message.set(INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0})
                message.set(INTENT_RANKING_KEY, [])
                continue
            # An intent is as likely as its best label: `faq` as its best article, not
            # the sum of all ~100. Summed, a message no article fits but that looks like
            # a knowledge question outweighed a clear "other IT" and got "not sure"; on
            # the fresh dev split the best label alone was the right kind of reply more
            # often (docs/honest-answers.md).
            intents: dict[str, float] = defaultdict(float)
            for label, probability in ranking:
                intent = label.split("/", 1)[0]
                intents[intent] = max(intents[intent], probability)
            intent_ranking = [
                {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
                for name, confidence in sorted(intents.items(), key=lambda item: -item[1])
            ][:length]
            message.set(INTENT, intent_ranking[0], add_to_output=True)
            if nearest := self.nearest(message):
                message.set(NEAREST, nearest, add_to_output=True)
            message.set(INTENT_RANKING_KEY, intent_ranking, add_to_output=True)
            articles = [(key, p) for key, p in ranking if key.startswith(f"{retrieval}/")][:length]
            if articles:
                self._set_articles(message, retrieval, articles)
        return messages

    @staticmethod
    def _set_articles(message: Message, retrieval: str, articles: list[tuple[str, float]]) -> None:
        best, confidence = articles[0]
        prediction = {
            "response": {
                "responses": None,
                "confidence": confidence,
                "intent_response_key": best,
                "utter_action": f"utter_{best}",
            },
            "ranking": [
                {"id": index, "confidence": score, "intent_response_key": key}
                for index, (key, score) in enumerate(articles)
            ],
        }
        properties = message.get("response_selector") or {}
        properties["all_retrieval_intents"] = [retrieval]
        properties[retrieval] = prediction
        message.set("response_selector", properties, add_to_output=True)

"""Rasa's FallbackClassifier, asking for more confidence when the nearest training
examples do not confirm the top label (bot/nlu/nearest.py says why).

Below `threshold` every message falls back, as with Rasa's own classifier; between it
and `unconfirmed_threshold` only a message whose nearest examples are of another intent.
Both were chosen on the dev split (docs/honest-answers.md).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.fallback_classifier import THRESHOLD_KEY, FallbackClassifier
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.nearest import falls_back

UNCONFIRMED_THRESHOLD_KEY = "unconfirmed_threshold"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ConfirmedFallbackClassifier(FallbackClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        defaults = FallbackClassifier.get_default_config()
        return {**defaults, UNCONFIRMED_THRESHOLD_KEY: defaults[THRESHOLD_KEY]}

    def _nlu_confidence_below_threshold(self, message: Message) -> tuple[bool, float]:
        threshold = self.component_config[THRESHOLD_KEY]
        unconfirmed = self.component_config.get(UNCONFIRMED_THRESHOLD_KEY, threshold)
        confidence = float(message.data["intent"].get("confidence") or 0.0)
        return falls_back(message.data, threshold, unconfirmed), confidence

"""The topic of every intent, from bot/data/topics.yml (the one place it lives)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.settings import PROJECT_ROOT

TOPICS_FILE = PROJECT_ROOT / "bot" / "data" / "topics.yml"
TOPICS = (
    "teams",
    "two_factor",
    "home_office",
    "pc_replacement",
    "service_desk",
    "chitchat",
    "out_of_scope",
)
DEFAULT_TOPIC = "service_desk"


@dataclass(frozen=True)
class TopicMap:
    by_intent: dict[str, str]

    @classmethod
    def load(cls, path: Path = TOPICS_FILE) -> TopicMap:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))["topics"]
        unknown = set(data) - set(TOPICS)
        if unknown:
            raise ValueError(f"{path}: unknown topics {sorted(unknown)}; allowed: {TOPICS}")
        by_intent: dict[str, str] = {}
        for topic, intents in data.items():
            for intent in intents:
                if intent in by_intent:
                    raise ValueError(
                        f"{path}: intent {intent!r} is listed under both "
                        f"{by_intent[intent]!r} and {topic!r}"
                    )
                by_intent[intent] = topic
        return cls(by_intent)

    def topic_of(self, intent: str | None, default: str = DEFAULT_TOPIC) -> str:
        """Topic of an intent name or full retrieval intent (`faq/<article>`)."""
        return self.by_intent.get(intent or "", default)

    def intents(self, topic: str | None = None) -> list[str]:
        return sorted(i for i, t in self.by_intent.items() if topic is None or t == topic)

    def article_ids(self) -> list[str]:
        return sorted(i.split("/", 1)[1] for i in self.by_intent if i.startswith("faq/"))

"""The catalogue: `knowledge/catalogue.yml` plus the article files, loaded together.

Everything that is declared once lives here and is derived by the rest of Rakel: the
topic of every intent (ticket category, statistics, evaluation), topic labels for the
staff pages, the services of "annet IT", the municipality words, and the articles.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from bot.content.articles import Article, load_articles
from bot.content.files import ContentError, read_yaml, validate
from bot.settings import PROJECT_ROOT

KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"
CATALOGUE_FILE = "catalogue.yml"


@dataclass(frozen=True)
class Topic:
    id: str
    label: str
    has_articles: bool
    tickets: bool
    intents: tuple[str, ...]
    # Words that name the topic ("teams", "pc-en"): a message made of these and
    # general problem words only is vague about this topic (bot/actions/context.py).
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    topics: dict[str, Topic]
    default_topic: str
    services: dict[str, str]
    municipalities: dict[str, tuple[str, ...]]
    articles: dict[str, Article]

    @classmethod
    def load(cls, directory: Path = KNOWLEDGE_DIR) -> Catalogue:
        path = Path(directory) / CATALOGUE_FILE
        data = read_yaml(path)
        validate(data, "catalogue.schema.json", path)
        topics = {
            key: Topic(
                id=key,
                label=value["label"],
                has_articles=bool(value.get("articles")),
                tickets=bool(value.get("tickets")),
                intents=tuple(value.get("intents") or ()),
                words=tuple(value.get("words") or ()),
            )
            for key, value in data["topics"].items()
        }
        if data["default_topic"] not in topics:
            raise ContentError(
                f"{data['default_topic']!r} is not a topic", path=path, field="default_topic"
            )
        seen: dict[str, str] = {}
        for topic in topics.values():
            for intent in topic.intents:
                if intent in seen:
                    raise ContentError(
                        f"intent {intent!r} is listed under both {seen[intent]!r} and {topic.id!r}",
                        path=path,
                        field="topics",
                    )
                seen[intent] = topic.id
        owners: dict[str, str] = {}
        for topic in topics.values():
            for word in topic.words:
                if word in owners:
                    raise ContentError(
                        f"word {word!r} is listed under both {owners[word]!r} and {topic.id!r}",
                        path=path,
                        field="topics",
                    )
                owners[word] = topic.id
        article_topics = [t.id for t in topics.values() if t.has_articles]
        return cls(
            topics=topics,
            default_topic=data["default_topic"],
            services=dict(data["services"]),
            municipalities={k: tuple(v) for k, v in data["municipalities"].items()},
            articles=load_articles(directory, article_topics),
        )

    # --- derived -------------------------------------------------------------

    @functools.cached_property
    def topic_by_intent(self) -> dict[str, str]:
        """Every intent (articles as `faq/<id>`) -> its topic."""
        mapping = {intent: t.id for t in self.topics.values() for intent in t.intents}
        mapping.update({a.intent: a.topic for a in self.articles.values()})
        return mapping

    def topic_of(self, intent: str | None, default: str | None = None) -> str:
        """Topic of an intent name or full retrieval intent (`faq/<article>`)."""
        return self.topic_by_intent.get(intent or "", default or self.default_topic)

    def intents(self, topic: str | None = None) -> list[str]:
        return sorted(i for i, t in self.topic_by_intent.items() if topic is None or t == topic)

    def article_ids(self) -> list[str]:
        return sorted(self.articles)

    def topic_labels(self) -> dict[str, str]:
        return {key: topic.label for key, topic in self.topics.items()}

    def article_topics(self) -> list[str]:
        return [t.id for t in self.topics.values() if t.has_articles]

    def common_problems(self, topic: str) -> list[Article]:
        """The topic's articles marked `common_problem: true`, in file order."""
        return [a for a in self.articles.values() if a.topic == topic and a.common_problem]

    @functools.cached_property
    def topic_of_word(self) -> dict[str, str]:
        """Every topic word (catalogue `words`) -> its topic."""
        return {word: t.id for t in self.topics.values() for word in t.words}

    def ticket_categories(self) -> list[str]:
        return [t.id for t in self.topics.values() if t.tickets]

    def ticket_category(self, intent: str | None) -> str:
        """The ticket category for a conversation whose question had `intent`."""
        topic = self.topic_of(intent)
        return topic if topic in self.ticket_categories() else self.default_topic


@functools.cache
def catalogue(directory: Path = KNOWLEDGE_DIR) -> Catalogue:
    """The catalogue of `directory`, loaded once per process."""
    return Catalogue.load(directory)

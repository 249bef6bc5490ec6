"""The catalogue: `knowledge/catalogue.yml` plus the article files, loaded together.

Everything that is declared once lives here and is derived by the rest of Rakel: the
topic of every intent (ticket category, statistics, evaluation), topic labels for the
staff pages, the services of "annet IT", the municipality words, the services an
outage notice can concern, the e-mail domain of each municipality, and the articles.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
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
class NoticeService:
    """What an outage notice can be about, and which topics' questions it concerns."""

    id: str
    label: str
    topics: tuple[str, ...]
    all_topics: bool
    named: bool  # staff name the system in free text (a fagsystem)

    def concerns(self, topic: str | None) -> bool:
        return self.all_topics or (topic is not None and topic in self.topics)


@dataclass(frozen=True)
class Catalogue:
    topics: dict[str, Topic]
    default_topic: str
    services: dict[str, str]
    municipalities: dict[str, tuple[str, ...]]
    articles: dict[str, Article]
    notice_services: dict[str, NoticeService] = field(default_factory=dict)
    email_domains: dict[str, str] = field(default_factory=dict)
    status_article: str | None = None

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
        notice_services = {
            key: NoticeService(
                id=key,
                label=value["label"],
                topics=tuple(value.get("topics") or ()),
                all_topics=bool(value.get("all_topics")),
                named=bool(value.get("named")),
            )
            for key, value in data["notice_services"].items()
        }
        for service in notice_services.values():
            for topic_id in service.topics:
                if topic_id not in topics:
                    raise ContentError(
                        f"notice service {service.id!r} names unknown topic {topic_id!r}",
                        path=path,
                        field="notice_services",
                    )
        email_domains = {k.lower(): v for k, v in (data.get("email_domains") or {}).items()}
        for domain, municipality in email_domains.items():
            if municipality not in data["municipalities"]:
                raise ContentError(
                    f"domain {domain!r} maps to unknown municipality {municipality!r}",
                    path=path,
                    field="email_domains",
                )
        articles = load_articles(directory, article_topics)
        status_article = data.get("status_article")
        if status_article is not None and status_article not in articles:
            # A knowledge folder with only some articles (a test, a pilot) still loads;
            # status questions then get no notice list of their own.
            logging.getLogger(__name__).warning(
                "%s: status_article %r is not an article; ignored", path, status_article
            )
            status_article = None
        return cls(
            topics=topics,
            default_topic=data["default_topic"],
            services=dict(data["services"]),
            municipalities={k: tuple(v) for k, v in data["municipalities"].items()},
            articles=articles,
            notice_services=notice_services,
            email_domains=email_domains,
            status_article=status_article,
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

    def municipality_of_address(self, address: str | None) -> str | None:
        """The municipality of an e-mail address or UPN by its domain; None if unknown."""
        if not address or "@" not in address:
            return None
        return self.email_domains.get(address.rsplit("@", 1)[1].strip().lower())

    def ticket_category(self, intent: str | None) -> str:
        """The ticket category for a conversation whose question had `intent`."""
        topic = self.topic_of(intent)
        return topic if topic in self.ticket_categories() else self.default_topic


@functools.cache
def catalogue(directory: Path = KNOWLEDGE_DIR) -> Catalogue:
    """The catalogue of `directory`, loaded once per process."""
    return Catalogue.load(directory)

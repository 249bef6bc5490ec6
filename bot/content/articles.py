"""Knowledge articles: one YAML file per answer, `knowledge/<topic>/<id>.yml`.

An article file holds everything about its answer: the answer itself, its source in
the annual report (or the general-guidance mark), whether it needs a person, who owns
it and when it was last reviewed, and the example questions that train `faq/<id>`.
The shape is declared in `article.schema.json`; the checks here are the ones a schema
cannot express (file names, placeholders, facts stated in the answer).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content.faq_intent import full_intent
from bot.content.files import ContentError, read_yaml, validate
from bot.content.grounding import mentions
from bot.settings import CONTACT_DEFAULTS

# Placeholders an answer may use; filled from `Settings.contacts`.
PLACEHOLDERS: frozenset[str] = frozenset(CONTACT_DEFAULTS)

# Rasa's entity markup in an example: "[Teams](app)" or "[aukra](municipality:Aukra)".
_MARKUP_RE = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")
MIN_EXAMPLES = 10


@dataclass(frozen=True)
class Article:
    id: str
    topic: str
    title: str
    answer: str
    report_sections: tuple[str, ...]
    general_guidance: bool
    report_facts: tuple[str, ...]
    needs_person: bool
    # One of its topic's common problems: a button of the topic clarifier
    # (bot/actions/context.py) when a message names the topic but not the problem.
    common_problem: bool = False
    examples: tuple[str, ...] = ()
    reviewed: str = ""
    owner: str = ""
    scope: str = ""

    @property
    def intent(self) -> str:
        return full_intent(self.id)

    def example_texts(self) -> list[str]:
        """The example questions as a user types them (entity markup removed)."""
        return [plain_text(example) for example in self.examples]


def plain_text(example: str) -> str:
    return _MARKUP_RE.sub(lambda m: m.group(1) or m.group(2), example)


def placeholders_in(text: str) -> list[str]:
    """Placeholder names used in `text`; ValueError for malformed braces."""
    names = []
    for literal, name, spec, conversion in string.Formatter().parse(text):
        if "{" in literal or "}" in literal:
            raise ValueError("literal braces ('{{' or '}}') are not allowed")
        if name is None:
            continue
        if spec or conversion:
            raise ValueError(f"placeholder {{{name}}} must not have a format spec or conversion")
        names.append(name)
    return names


def _examples(block: str, path: Path) -> tuple[str, ...]:
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    bad = [line for line in lines if not line.startswith("- ") or not line[2:].strip()]
    if bad:
        raise ContentError(
            f"each line must be '- <example>', got {bad[0]!r}", path=path, field="examples"
        )
    examples = [line[2:].strip() for line in lines]
    duplicates = sorted({e for e in examples if examples.count(e) > 1})
    if duplicates:
        raise ContentError(f"duplicate examples {duplicates[:3]}", path=path, field="examples")
    if len(examples) < MIN_EXAMPLES:
        raise ContentError(
            f"has {len(examples)} examples, at least {MIN_EXAMPLES} needed",
            path=path,
            field="examples",
        )
    return tuple(examples)


def parse_article(data: Any, path: Path, topics: Iterable[str]) -> Article:
    """Validate one article's data (as read from `path`) and build the Article."""
    if not isinstance(data, dict):
        raise ContentError("the file must contain a mapping of article fields", path=path)
    validate(data, "article.schema.json", path)
    article_id, topic = data["id"], data["topic"]
    if article_id != path.stem:
        raise ContentError(
            f"{article_id!r} must equal the file name {path.stem!r}", path=path, field="id"
        )
    topics = tuple(topics)
    if topic not in topics:
        raise ContentError(
            f"{topic!r} is not a topic with articles ({', '.join(topics)})",
            path=path,
            field="topic",
        )
    if topic != path.parent.name:
        raise ContentError(
            f"{topic!r} must equal the folder name {path.parent.name!r}", path=path, field="topic"
        )

    answer = data["answer"].strip()
    try:
        names = placeholders_in(answer)
    except ValueError as exc:
        raise ContentError(str(exc), path=path, field="answer") from exc
    unknown = sorted(set(names) - PLACEHOLDERS)
    if unknown:
        allowed = ", ".join("{" + name + "}" for name in sorted(PLACEHOLDERS))
        raise ContentError(
            f"unknown placeholder {{{unknown[0]}}} (allowed: {allowed})", path=path, field="answer"
        )

    source = data["source"]
    sections = tuple(source["report_sections"])
    if not sections and not source["general_guidance"]:
        raise ContentError(
            "an article must cite report sections or be marked general_guidance: true",
            path=path,
            field="source",
        )
    facts = tuple(fact.strip() for fact in data["report_facts"])
    if facts and not sections:
        raise ContentError(
            "report facts need at least one entry in source.report_sections",
            path=path,
            field="report_facts",
        )
    for fact in facts:
        if not mentions(answer, fact):
            raise ContentError(
                f"{fact!r} does not occur in the answer", path=path, field="report_facts"
            )

    return Article(
        id=article_id,
        topic=topic,
        title=data["title"].strip(),
        answer=answer,
        report_sections=sections,
        general_guidance=source["general_guidance"],
        report_facts=facts,
        needs_person=data["needs_person"],
        common_problem=bool(data.get("common_problem", False)),
        examples=_examples(data["examples"], path),
        reviewed=data["reviewed"],
        owner=data["owner"].strip(),
        scope=(data.get("scope") or "").strip(),
    )


def load_articles(directory: Path, topics: Iterable[str]) -> dict[str, Article]:
    """Every article under `directory/<topic>/` for the given topics, validated, by id."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ContentError("knowledge directory does not exist", path=directory)
    topics = tuple(topics)
    articles: dict[str, Article] = {}
    origins: dict[str, Path] = {}
    for topic in topics:
        folder = directory / topic
        stray = sorted(folder.glob("*.yaml"))
        if stray:
            raise ContentError("article files must end in .yml", path=stray[0])
        for path in sorted(folder.glob("*.yml")):
            article = parse_article(read_yaml(path), path, topics)
            if article.id in articles:
                raise ContentError(
                    f"duplicate article id {article.id!r}, also in {origins[article.id]}",
                    path=path,
                    field="id",
                )
            articles[article.id] = article
            origins[article.id] = path
    if not articles:
        raise ContentError("no *.yml articles found", path=directory)
    return articles

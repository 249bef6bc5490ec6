"""The knowledge base: one YAML article per file in `knowledge/<topic>/<id>.yml`.

`load_articles` reads and strictly validates the files (schema in
docs/architecture.md); `KnowledgeBase` renders answers with the configured contact
details and builds the source line. `ungrounded_facts` checks an article against
the text of the annual report it cites (used by the tests).

Nothing is read or cached at import time.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bot.settings import CONTACT_DEFAULTS

if TYPE_CHECKING:
    from bot.settings import Settings

TOPICS: tuple[str, ...] = ("teams", "two_factor", "home_office", "pc_replacement", "service_desk")

# Placeholders an answer may use; filled from `Settings.contacts`.
PLACEHOLDERS: frozenset[str] = frozenset(CONTACT_DEFAULTS)

MAX_ANSWER_CHARS = 1000
MAX_TITLE_CHARS = 60

# ---------------------------------------------------------------------------
# CONTENT: user-facing Norwegian wording of the source line under an answer.
# "{sections}" becomes e.g. "2.1.1 Kundeservice og 2.1.3.5 Digital dialog".
SOURCE_LINE_TEMPLATE = "Kilde: ROR-IKT årsrapport 2020, kap. {sections}"
SOURCE_SECTION_SEPARATOR = ", "
SOURCE_SECTION_LAST_SEPARATOR = " og "
# ---------------------------------------------------------------------------

_FIELDS = ("id", "topic", "title", "answer", "source", "report_facts", "needs_person")
_SOURCE_FIELDS = ("report_sections", "general_guidance")
_ID_RE = re.compile(r"[a-z][a-z0-9_]*")
# "2.1.1 Kundeservice", "5 Fremtidige utfordringer": section number, space, title.
_SECTION_RE = re.compile(r"\d+(?:\.\d+)* \S.*")


class KnowledgeError(ValueError):
    """An article file is invalid; the message names the file and the field."""

    def __init__(
        self, message: str, *, path: Path | str | None = None, field: str | None = None
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.field = field
        where = []
        if path is not None:
            where.append(str(path))
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(": ".join([*where, message]))


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


# --- loading ---------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys instead of keeping the last."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


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


def _require_str(
    data: Mapping[str, Any],
    key: str,
    path: Path,
    *,
    field: str | None = None,
    max_chars: int | None = None,
) -> str:
    value = data[key]
    field = field or key
    if not isinstance(value, str):
        raise KnowledgeError(
            f"must be a string, got {type(value).__name__}", path=path, field=field
        )
    value = value.strip()
    if not value:
        raise KnowledgeError("must not be empty", path=path, field=field)
    if max_chars is not None and len(value) > max_chars:
        raise KnowledgeError(
            f"is {len(value)} characters, at most {max_chars} allowed", path=path, field=field
        )
    return value


def _require_bool(
    data: Mapping[str, Any], key: str, path: Path, *, field: str | None = None
) -> bool:
    value = data[key]
    if not isinstance(value, bool):
        raise KnowledgeError(f"must be true or false, got {value!r}", path=path, field=field or key)
    return value


def _require_str_list(
    data: Mapping[str, Any], key: str, path: Path, *, field: str | None = None
) -> tuple[str, ...]:
    field = field or key
    value = data[key]
    if not isinstance(value, list):
        raise KnowledgeError(f"must be a list, got {type(value).__name__}", path=path, field=field)
    items = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise KnowledgeError(
                f"item {index} must be a non-empty string, got {item!r}", path=path, field=field
            )
        items.append(item.strip())
    duplicates = sorted({item for item in items if items.count(item) > 1})
    if duplicates:
        raise KnowledgeError(f"duplicate entries {duplicates}", path=path, field=field)
    return tuple(items)


def _check_keys(
    data: Mapping[str, Any], expected: tuple[str, ...], path: Path, prefix: str = ""
) -> None:
    missing = [key for key in expected if key not in data]
    if missing:
        raise KnowledgeError("missing required field", path=path, field=prefix + missing[0])
    unknown = sorted(str(key) for key in data if key not in expected)
    if unknown:
        raise KnowledgeError(
            f"unknown field (allowed: {', '.join(expected)})", path=path, field=prefix + unknown[0]
        )


def _parse_article(path: Path) -> Article:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KnowledgeError(f"cannot read YAML: {exc}", path=path) from exc
    if not isinstance(data, dict):
        raise KnowledgeError("the file must contain a mapping of article fields", path=path)
    _check_keys(data, _FIELDS, path)

    article_id = _require_str(data, "id", path)
    if not _ID_RE.fullmatch(article_id):
        raise KnowledgeError(f"{article_id!r} must be lower_snake_case", path=path, field="id")
    if article_id != path.stem:
        raise KnowledgeError(
            f"{article_id!r} must equal the file name {path.stem!r}", path=path, field="id"
        )

    topic = _require_str(data, "topic", path)
    if topic not in TOPICS:
        raise KnowledgeError(
            f"{topic!r} is not one of {', '.join(TOPICS)}", path=path, field="topic"
        )
    if topic != path.parent.name:
        raise KnowledgeError(
            f"{topic!r} must equal the folder name {path.parent.name!r}", path=path, field="topic"
        )

    title = _require_str(data, "title", path, max_chars=MAX_TITLE_CHARS)
    if "\n" in title or "{" in title or "}" in title:
        raise KnowledgeError("must be one line without braces", path=path, field="title")

    answer = _require_str(data, "answer", path, max_chars=MAX_ANSWER_CHARS)
    try:
        names = placeholders_in(answer)
    except ValueError as exc:
        raise KnowledgeError(str(exc), path=path, field="answer") from exc
    unknown = sorted(set(names) - PLACEHOLDERS)
    if unknown:
        raise KnowledgeError(
            f"unknown placeholder {{{unknown[0]}}} (allowed: "
            f"{', '.join('{' + name + '}' for name in sorted(PLACEHOLDERS))})",
            path=path,
            field="answer",
        )

    source = data["source"]
    if not isinstance(source, dict):
        raise KnowledgeError(
            "must be a mapping with report_sections and general_guidance", path=path, field="source"
        )
    _check_keys(source, _SOURCE_FIELDS, path, prefix="source.")
    sections = _require_str_list(source, "report_sections", path, field="source.report_sections")
    for section in sections:
        if not _SECTION_RE.fullmatch(section):
            raise KnowledgeError(
                f"{section!r} must be a section number and title, e.g. '2.1.1 Kundeservice'",
                path=path,
                field="source.report_sections",
            )
    general = _require_bool(source, "general_guidance", path, field="source.general_guidance")
    if not sections and not general:
        raise KnowledgeError(
            "an article must cite report sections or be marked general_guidance: true",
            path=path,
            field="source",
        )

    facts = _require_str_list(data, "report_facts", path)
    if facts and not sections:
        raise KnowledgeError(
            "report facts need at least one entry in source.report_sections",
            path=path,
            field="report_facts",
        )
    for fact in facts:
        if not mentions(answer, fact):
            raise KnowledgeError(
                f"{fact!r} does not occur in the answer", path=path, field="report_facts"
            )

    return Article(
        id=article_id,
        topic=topic,
        title=title,
        answer=answer,
        report_sections=sections,
        general_guidance=general,
        report_facts=facts,
        needs_person=_require_bool(data, "needs_person", path),
    )


def load_articles(directory: Path) -> dict[str, Article]:
    """Every `*.yml` article under `directory` (recursively), validated, by id."""
    directory = Path(directory)
    if not directory.is_dir():
        raise KnowledgeError("knowledge directory does not exist", path=directory)
    stray = sorted(directory.rglob("*.yaml"))
    if stray:
        raise KnowledgeError("article files must end in .yml", path=stray[0])
    articles: dict[str, Article] = {}
    origins: dict[str, Path] = {}
    for path in sorted(directory.rglob("*.yml")):
        article = _parse_article(path)
        if article.id in articles:
            raise KnowledgeError(
                f"duplicate article id {article.id!r}, also in {origins[article.id]}",
                path=path,
                field="id",
            )
        articles[article.id] = article
        origins[article.id] = path
    if not articles:
        raise KnowledgeError("no *.yml articles found", path=directory)
    return articles


# --- the knowledge base ----------------------------------------------------


class KnowledgeBase:
    """Validated articles plus the contact details their placeholders refer to."""

    def __init__(
        self, articles: Mapping[str, Article] | Iterable[Article], contacts: Mapping[str, str]
    ) -> None:
        items = articles.values() if isinstance(articles, Mapping) else articles
        self._articles: dict[str, Article] = {}
        for article in items:
            if article.id in self._articles:
                raise KnowledgeError(f"duplicate article id {article.id!r}")
            self._articles[article.id] = article
        self._contacts = dict(contacts)
        for article in self._articles.values():
            missing = sorted(set(placeholders_in(article.answer)) - set(self._contacts))
            if missing:
                raise KnowledgeError(
                    f"article {article.id!r} uses {{{missing[0]}}}, which has no contact value"
                )

    @classmethod
    def from_settings(cls, settings: Settings) -> KnowledgeBase:
        return cls(load_articles(settings.knowledge_dir), settings.contacts)

    def __len__(self) -> int:
        return len(self._articles)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._articles

    @property
    def articles(self) -> Mapping[str, Article]:
        return dict(self._articles)

    def get(self, article_id: str) -> Article | None:
        return self._articles.get(article_id)

    def render(self, article: Article) -> str:
        """The answer with every placeholder filled from the contact details."""
        return article.answer.format_map(self._contacts).strip()

    def source_line(self, article: Article) -> str | None:
        """ "Kilde: …" for articles drawing on the report; None for pure general guidance."""
        sections = list(article.report_sections)
        if not sections:
            return None
        if len(sections) == 1:
            joined = sections[0]
        else:
            joined = (
                SOURCE_SECTION_SEPARATOR.join(sections[:-1])
                + SOURCE_SECTION_LAST_SEPARATOR
                + sections[-1]
            )
        return SOURCE_LINE_TEMPLATE.format(sections=joined)

    def titles(self) -> dict[str, str]:
        """Article id -> title, sorted by id."""
        return {key: self._articles[key].title for key in sorted(self._articles)}

    def by_topic(self, topic: str) -> list[Article]:
        """The articles of one topic, sorted by id."""
        if topic not in TOPICS:
            raise KnowledgeError(f"unknown topic {topic!r} (topics: {', '.join(TOPICS)})")
        return sorted((a for a in self._articles.values() if a.topic == topic), key=lambda a: a.id)


# --- grounding ---------------------------------------------------------------

# Product, system and project names the grounding check looks for. Each entry is
# one name with its accepted spellings; when an answer mentions it, a report-based
# article must list one of the spellings in report_facts.
NAMED_SYSTEMS: tuple[tuple[str, ...], ...] = (
    ("Teams", "Microsoft Teams"),
    ("Teams til kommunene",),
    ("Velkommen til Teams",),
    ("Kompetanseportalen",),
    ("Julekalender",),
    ("Dustin",),
    ("Atea",),
    ("lagringsstrategi",),
    ("Visma Enterprise", "Visma"),
    ("Visma HRM",),
    ("ID-porten",),
    ("Microsoft 365", "Microsoft365", "M365", "Office 365"),
    ("Authenticator", "Microsoft Authenticator"),
    ("OneDrive",),
    ("SharePoint",),
    ("Outlook",),
    ("VPN",),
    ("Windows",),
    ("BankID",),
    ("MinID",),
    ("Public 360", "P360"),
    ("Feide",),
    ("Skooler",),
    ("mobilt sentralbord",),
    ("Stortinget", "Stortingets"),
    ("Spør 'o Rakel",),
)

# A number as written in Norwegian text: "17334", "17 334", "11.510", "4,44".
_NUMBER_RE = re.compile(r"(?<!\d)(?:\d{1,3}(?:[ \u00a0.]\d{3})+(?!\d)|\d+(?:,\d+)?)")
# "1. " / "2) " at the start of a line: a step number, not a fact.
_STEP_PREFIX_RE = re.compile(r"^[ \t]*\d+[.)][ \t]+", re.MULTILINE)


def _normalise_text(text: str) -> str:
    text = text.replace("\u2018", "'").replace("\u2019", "'").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip().casefold()


def _squash(text: str) -> str:
    """Case- and space-insensitive form: 'Microsoft 365' and 'Microsoft365' compare equal."""
    return _normalise_text(text).replace(" ", "")


def normalise_number(token: str) -> str:
    """'17 334' / '17.334' -> '17334'; decimals keep their comma ('4,44')."""
    return re.sub(r"[ \u00a0.]", "", token)


def numbers_in(text: str, *, skip_steps: bool = True) -> list[str]:
    """Normalised numbers in `text`; by default without step numbers ("1. ") at line starts."""
    if skip_steps:
        text = _STEP_PREFIX_RE.sub("", text)
    return [normalise_number(match) for match in _NUMBER_RE.findall(text)]


def _is_number(fact: str) -> bool:
    return _NUMBER_RE.fullmatch(fact) is not None


def mentions(text: str, fact: str) -> bool:
    """Whether `text` states `fact` (numbers compared normalised, names case-insensitively)."""
    if _is_number(fact):
        return normalise_number(fact) in numbers_in(text)
    return _squash(fact) in _squash(text)


def _literal_text(article: Article) -> str:
    """Title and answer without placeholders: contact details are not facts."""
    parts = [literal for literal, *_ in string.Formatter().parse(article.answer)]
    return article.title + "\n" + " ".join(parts)


def _name_occurs(name: str, text: str) -> bool:
    pattern = r"(?<!\w)" + re.escape(_normalise_text(name))
    return re.search(pattern, _normalise_text(text)) is not None


def ungrounded_facts(article: Article, report_text: str) -> list[str]:
    """What in `article` the report text does not back up; [] when all is grounded.

    - every report_facts entry must occur in the report (numbers compared normalised);
    - every number in the title and answer (step numbers excepted) must occur in the
      report, whatever the article's source: figures are never general guidance;
    - a named system from NAMED_SYSTEMS mentioned in a report-based answer must be
      listed in report_facts; one the report never mentions is only allowed in
      articles marked general_guidance.
    """
    problems: list[str] = []
    report_flat = re.sub(r"\s+", " ", report_text)
    report_numbers = set(numbers_in(report_text, skip_steps=False))

    for fact in article.report_facts:
        if _is_number(fact):
            if normalise_number(fact) not in report_numbers:
                problems.append(f"report fact {fact!r} is not a number in the report")
        elif re.sub(r"\s+", " ", fact) not in report_flat:
            problems.append(f"report fact {fact!r} does not occur in the report")

    text = _literal_text(article)
    for number in dict.fromkeys(numbers_in(text)):
        if number not in report_numbers:
            problems.append(f"number {number} in the answer does not occur in the report")

    if article.report_sections or not article.general_guidance:
        listed = {_normalise_text(fact) for fact in article.report_facts}
        for spellings in NAMED_SYSTEMS:
            if not any(_name_occurs(name, text) for name in spellings):
                continue
            in_report = any(_name_occurs(name, report_text) for name in spellings)
            if not in_report:
                if not article.general_guidance:
                    problems.append(
                        f"named system {spellings[0]!r} is not in the report; mark the "
                        "article general_guidance: true or leave it out"
                    )
            elif not listed & {_normalise_text(name) for name in spellings}:
                problems.append(f"named system {spellings[0]!r} is not listed in report_facts")
    return problems

"""The survey of real questions (knowledge/survey/*.yml) and the evaluation messages
modelled on it (tests/data/realq/messages.yml).

Each survey file belongs to one side: `train` (its question types fed the training
examples) or `eval` (its question types fed the evaluation messages). Sources are
organisations; an organisation appears on one side only, and on the eval side it
belongs to one split, `dev` (thresholds and features are tuned on it) or `test`
(reported, never tuned on). Expected outcomes live once, on the question type; a
message only names its type, its organisation and its language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.settings import PROJECT_ROOT

SURVEY_DIR = PROJECT_ROOT / "knowledge" / "survey"
MESSAGES_FILE = PROJECT_ROOT / "tests" / "data" / "realq" / "messages.yml"
SIDES = ("train", "eval")
SPLITS = ("dev", "test")
LANGUAGES = ("nb", "nn")
EXPECT_KINDS = ("article", "other_it", "out_of_scope", "missing_article")


class SurveyError(ValueError):
    pass


@dataclass(frozen=True)
class Expectation:
    kind: str  # article | other_it | out_of_scope | missing_article
    value: str  # article id, service, "hr"/"general", or the missing article's slug
    topic: str  # the topic the question belongs to (for per-topic figures)

    @property
    def in_scope(self) -> bool:
        return self.kind in ("article", "missing_article")


@dataclass(frozen=True)
class QuestionType:
    id: str
    gist: str
    expect: Expectation
    orgs: tuple[str, ...]
    urls: tuple[str, ...]
    side: str


@dataclass(frozen=True)
class Source:
    org: str
    name: str
    side: str
    split: str | None


@dataclass(frozen=True)
class Survey:
    sources: dict[str, Source]
    types: dict[str, QuestionType]

    def orgs(self, side: str) -> set[str]:
        return {key for key, source in self.sources.items() if source.side == side}


def _expectation(raw: Any, article_topics: dict[str, str], where: str) -> Expectation:
    if not isinstance(raw, dict):
        raise SurveyError(f"{where}: expect must be a mapping")
    kinds = [k for k in EXPECT_KINDS if k in raw]
    if len(kinds) != 1:
        raise SurveyError(f"{where}: expect needs exactly one of {EXPECT_KINDS}, got {raw}")
    kind, value = kinds[0], str(raw[kinds[0]])
    if kind == "article":
        if value not in article_topics:
            raise SurveyError(f"{where}: no article {value!r}")
        return Expectation(kind, value, article_topics[value])
    if kind == "other_it":
        return Expectation(kind, value, "annet_it")
    if kind == "out_of_scope":
        if value not in ("hr", "general"):
            raise SurveyError(f"{where}: out_of_scope must be hr or general, got {value!r}")
        return Expectation(kind, value, "out_of_scope")
    topic = raw.get("topic")
    if topic not in set(article_topics.values()):
        raise SurveyError(f"{where}: missing_article needs a topic with articles, got {topic!r}")
    return Expectation(kind, value, topic)


def load_survey(article_topics: dict[str, str], directory: Path = SURVEY_DIR) -> Survey:
    """All survey files; `article_topics` maps article id -> topic (from the catalogue)."""
    sources: dict[str, Source] = {}
    types: dict[str, QuestionType] = {}
    for path in sorted(Path(directory).glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        side = data.get("side")
        if side not in SIDES:
            raise SurveyError(f"{path.name}: side must be one of {SIDES}")
        local: set[str] = set()
        for raw in data.get("sources") or []:
            org = raw["org"]
            split = raw.get("split")
            if side == "eval" and split not in SPLITS:
                raise SurveyError(f"{path.name}: eval source {org!r} needs split dev or test")
            if org in sources and (sources[org].side, sources[org].split) != (side, split):
                known = sources[org]
                raise SurveyError(
                    f"{path.name}: organisation {org!r} is already a source of the "
                    f"{known.side} side (split {known.split})"
                )
            sources[org] = Source(org, raw.get("name") or org, side, split)
            local.add(org)
        for raw in data.get("question_types") or []:
            where = f"{path.name}: {raw.get('id')}"
            if raw["id"] in types:
                raise SurveyError(f"{where}: duplicate question type id")
            seen = raw.get("seen_in") or []
            orgs = tuple(entry["org"] for entry in seen)
            unknown = [org for org in orgs if org not in local]
            if not orgs or unknown:
                raise SurveyError(f"{where}: seen_in names no source or unlisted ones {unknown}")
            types[raw["id"]] = QuestionType(
                id=raw["id"],
                gist=raw.get("gist") or "",
                expect=_expectation(raw.get("expect"), article_topics, where),
                orgs=orgs,
                urls=tuple(entry.get("url") or "" for entry in seen),
                side=side,
            )
    return Survey(sources, types)


@dataclass(frozen=True)
class EvalMessage:
    text: str
    type: QuestionType
    org: str
    lang: str
    split: str


def load_messages(survey: Survey, path: Path = MESSAGES_FILE) -> list[EvalMessage]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    messages = []
    for index, raw in enumerate(data.get("messages") or []):
        where = f"{path.name} message {index + 1}"
        qtype = survey.types.get(raw.get("type"))
        if qtype is None or qtype.side != "eval":
            raise SurveyError(f"{where}: {raw.get('type')!r} is no eval-side question type")
        org = raw.get("org")
        if org not in qtype.orgs:
            raise SurveyError(f"{where}: org {org!r} is not among {qtype.id}'s sources")
        if raw.get("lang") not in LANGUAGES:
            raise SurveyError(f"{where}: lang must be one of {LANGUAGES}")
        split = survey.sources[org].split
        assert split is not None
        messages.append(EvalMessage(str(raw["text"]), qtype, org, raw["lang"], split))
    return messages


def by_split(messages: Iterable[EvalMessage], split: str) -> list[EvalMessage]:
    return [m for m in messages if m.split == split]

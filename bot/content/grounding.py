"""Grounding: does an article state only what the annual report backs up?

`mentions` is also used when an article is loaded (every report fact must be stated
in the answer); `ungrounded_facts` checks an article against the report text (tests,
and staff drafts).
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from bot.content.articles import Article

# The annual report 2020 that report-based articles cite (beside the checkout).
REPORT_FILE = PROJECT_ROOT.parent / "shared" / "seeds" / "ror-ikt-arsrapport-2020.txt"

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


def check_catalogue(knowledge_dir: Path, report_file: Path = REPORT_FILE) -> list[str]:
    """Every problem of the catalogue in `knowledge_dir`: one per line, [] when all is well."""
    from bot.content.catalogue import Catalogue
    from bot.content.files import ContentError

    try:
        content = Catalogue.load(knowledge_dir)
    except ContentError as exc:
        return [str(exc)]
    report = report_file.read_text(encoding="utf-8")
    return [
        f"{article.topic}/{article.id}.yml: {problem}"
        for article in content.articles.values()
        for problem in ungrounded_facts(article, report)
    ]

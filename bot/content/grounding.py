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
# "§ 11-7" / "§§ 11-5 og 11-7": a reference to a section of a law, not a figure.
_LEGAL_REFERENCE_RE = re.compile(
    r"§+[ \u00a0]*\d+(?:-\d+)?(?:[a-z])?(?:[ \u00a0]+og[ \u00a0]+\d+(?:-\d+)?)?"
)
# A heading of the report: "2.1.1 KUNDESERVICE", "3.4 SYKEFRAVÆR" (number, then capitals).
_HEADING_RE = re.compile(
    r"^[ \t]*(\d+(?:\.\d+)*)[ \t]+([^a-zæøå\n]*[A-ZÆØÅ][^a-zæøå\n]*?)[ \t]*$", re.MULTILINE
)


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
    text = _LEGAL_REFERENCE_RE.sub(" ", text)
    return [normalise_number(match) for match in _NUMBER_RE.findall(text)]


def report_sections(report_text: str) -> dict[str, str]:
    """Heading ("2.1.1 KUNDESERVICE") -> the text of that section, its subsections included.

    A section runs from its heading to the next heading of the same or a higher level:
    "2.1" holds "2.1.1" and "2.1.2", "2.1.1" ends where "2.1.2" begins.
    """
    headings = [
        (match.start(), match.group(1), f"{match.group(1)} {match.group(2).strip()}")
        for match in _HEADING_RE.finditer(report_text)
    ]
    sections: dict[str, str] = {}
    for index, (start, number, heading) in enumerate(headings):
        end = len(report_text)
        for later_start, later_number, _ in headings[index + 1 :]:
            if not later_number.startswith(number + "."):
                end = later_start
                break
        sections[heading] = report_text[start:end]
    return sections


def _cited_text(article: Article, report_text: str) -> str | None:
    """The text of the sections `article` cites; None when one of them is not in the report."""
    sections = report_sections(report_text)
    parts = [sections.get(section.upper()) for section in article.report_sections]
    if any(part is None for part in parts):
        return None
    return "\n".join(part for part in parts if part is not None)


def _spellings(fact: str) -> tuple[str, ...]:
    """A named system's accepted spellings ("Microsoft365" may read "M365"), else the fact."""
    for spellings in NAMED_SYSTEMS:
        if _normalise_text(fact) in {_normalise_text(name) for name in spellings}:
            return (fact, *spellings)
    return (fact,)


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

    - every cited section must be a heading of the report, and every report_facts entry
      must occur in one of the cited sections, not just somewhere in the report
      (numbers compared normalised);
    - every number in the title and answer (step numbers excepted) must occur in the
      report, whatever the article's source: figures are never general guidance;
    - a named system from NAMED_SYSTEMS mentioned in a report-based answer must be
      listed in report_facts; one the report never mentions is only allowed in
      articles marked general_guidance.
    """
    problems: list[str] = []
    report_numbers = set(numbers_in(report_text, skip_steps=False))
    cited = _cited_text(article, report_text)
    if cited is None:
        known = report_sections(report_text)
        missing = [s for s in article.report_sections if s.upper() not in known]
        problems.append(f"cited section {missing[0]!r} is not a heading of the report")
        cited = ""
    cited_flat = re.sub(r"\s+", " ", cited)
    cited_numbers = set(numbers_in(cited, skip_steps=False))
    where = " and ".join(article.report_sections)

    for fact in article.report_facts:
        if _is_number(fact):
            if normalise_number(fact) not in cited_numbers:
                problems.append(f"report fact {fact!r} is not a number in section {where}")
        elif not any(re.sub(r"\s+", " ", s) in cited_flat for s in _spellings(fact)):
            problems.append(f"report fact {fact!r} does not occur in section {where}")

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

"""Survey coverage: does every question employees ask have an answer, or a reason why not?

The survey (knowledge/survey/*.yml, both sides) records question types with the
organisations where each was seen. A type is covered when its expected answer is an
article that exists, or Rakel's honest reply for another service (annet IT) or for a
question outside IT support. A type expecting an article that does not exist yet
(`missing_article`) is a gap, unless knowledge/coverage.yml records why Rakel should
not answer it.

The same missing question may be recorded under different type ids (one per survey
side); its independent sources are the distinct organisations over all types naming
that missing article. A gap seen in at least MIN_SOURCES organisations fails
`python -m bot.content.coverage` and the coverage test.

    python -m bot.content.coverage           # the report; exit code 1 when a gap counts
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bot.content.catalogue import KNOWLEDGE_DIR, Catalogue
from bot.content.files import ContentError, read_yaml
from bot.evaluation.survey import SURVEY_DIR, QuestionType, Survey, load_survey

# A question seen in this many independent organisations must be answered or excused.
MIN_SOURCES = 2
REASONS_FILE = "coverage.yml"


@dataclass(frozen=True)
class Row:
    type_id: str
    side: str
    topic: str
    sources: int  # independent organisations that asked this question
    answer: str  # "article teams_tips", "annet IT: printer", "utenfor: hr", "" for none
    reason: str  # recorded reason for not answering, "" when none

    @property
    def covered(self) -> bool:
        return bool(self.answer or self.reason)

    @property
    def counts(self) -> bool:
        """An uncovered question seen often enough to fail the check."""
        return not self.covered and self.sources >= MIN_SOURCES


def load_reasons(knowledge_dir: Path = KNOWLEDGE_DIR) -> dict[str, str]:
    """Missing article slug -> why Rakel should not answer it (knowledge/coverage.yml)."""
    path = knowledge_dir / REASONS_FILE
    if not path.is_file():
        return {}
    data = read_yaml(path) or {}
    reasons = data.get("reasons") or {}
    if not isinstance(reasons, dict) or not all(
        isinstance(key, str) and isinstance(value, str) and value.strip()
        for key, value in reasons.items()
    ):
        raise ContentError("'reasons' must map a question's slug to a non-empty reason", path=path)
    return dict(reasons)


def _answer(qtype: QuestionType, articles: set[str]) -> str:
    kind, value = qtype.expect.kind, qtype.expect.value
    if kind == "article" or (kind == "missing_article" and value in articles):
        return f"article {value}"
    if kind == "other_it":
        return f"annet IT: {value}"
    if kind == "out_of_scope":
        return f"utenfor: {value}"
    return ""


def coverage(
    catalogue: Catalogue, survey: Survey, reasons: dict[str, str] | None = None
) -> list[Row]:
    """One row per question type, sorted by topic, then uncovered first, then id."""
    reasons = reasons or {}
    articles = set(catalogue.articles)
    # A missing article's organisations, over every type (and survey side) naming it.
    missing_orgs: dict[str, set[str]] = defaultdict(set)
    for qtype in survey.types.values():
        if qtype.expect.kind == "missing_article":
            missing_orgs[qtype.expect.value].update(qtype.orgs)
    rows = []
    for qtype in survey.types.values():
        missing = qtype.expect.kind == "missing_article"
        orgs = missing_orgs[qtype.expect.value] if missing else set(qtype.orgs)
        rows.append(
            Row(
                type_id=qtype.id,
                side=qtype.side,
                topic=qtype.expect.topic,
                sources=len(orgs),
                answer=_answer(qtype, articles),
                reason=reasons.get(qtype.expect.value, "") if missing else "",
            )
        )
    return sorted(rows, key=lambda r: (r.topic, r.covered, r.type_id))


def gaps(rows: list[Row]) -> list[Row]:
    """The rows that fail the check: uncovered and seen in MIN_SOURCES organisations."""
    return [row for row in rows if row.counts]


def report(rows: list[Row]) -> str:
    lines = [f"{'question type':<44} {'side':<5} {'src':>3}  answer or reason"]
    for row in rows:
        answer = row.answer or (f"reason: {row.reason}" if row.reason else "-- NONE --")
        lines.append(f"{row.type_id:<44} {row.side:<5} {row.sources:>3}  {answer}")
    by_topic: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_topic[row.topic].append(row)
    lines.append("")
    for topic, topic_rows in sorted(by_topic.items()):
        covered = sum(row.covered for row in topic_rows)
        lines.append(f"{topic}: {covered}/{len(topic_rows)} question types covered")
    failing = gaps(rows)
    lines.append(
        f"total: {sum(r.covered for r in rows)}/{len(rows)} covered; "
        f"{len(failing)} uncovered seen in >= {MIN_SOURCES} sources"
    )
    return "\n".join(lines)


def load(knowledge_dir: Path = KNOWLEDGE_DIR, survey_dir: Path = SURVEY_DIR) -> list[Row]:
    catalogue = Catalogue.load(knowledge_dir)
    survey = load_survey({a.id: a.topic for a in catalogue.articles.values()}, survey_dir)
    return coverage(catalogue, survey, load_reasons(knowledge_dir))


def main() -> int:
    rows = load()
    print(report(rows))
    return 1 if gaps(rows) else 0


if __name__ == "__main__":
    sys.exit(main())

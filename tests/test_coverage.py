"""Survey coverage: every question type seen in two independent sources has an article
or a recorded reason (bot/content/coverage.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.content.catalogue import Catalogue
from bot.content.coverage import MIN_SOURCES, coverage, gaps, load, load_reasons, report
from bot.content.files import ContentError
from bot.evaluation.survey import load_survey
from bot.settings import PROJECT_ROOT

KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.load(KNOWLEDGE_DIR)


def test_every_question_seen_in_two_sources_has_an_article_or_a_reason():
    rows = load()
    assert len(rows) >= 300
    assert gaps(rows) == [], report(gaps(rows))


def test_the_gaps_of_the_survey_are_now_articles():
    # Seen in the survey without an article: written from training-side sources.
    answers = {row.type_id: row.answer for row in load()}
    assert answers["tt_mfa_no_private_phone"] == "article mfa_without_private_phone"
    assert answers["tt_teams_archive_finished_team"] == "article teams_archive_team"
    assert answers["th_home_return_equipment"] == "article home_return_equipment"


def write_survey(directory: Path, side: str, orgs: list[str], types: list[dict]) -> None:
    data = {
        "side": side,
        "sources": [
            {
                "org": org,
                "name": org,
                "kind": "other",
                **({"split": "dev"} if side == "eval" else {}),
            }
            for org in orgs
        ],
        "question_types": types,
    }
    (directory / f"{side}.yml").write_text(yaml.safe_dump(data), encoding="utf-8")


def missing(type_id: str, org: str, slug: str = "teams_whiteboard") -> dict:
    return {
        "id": type_id,
        "gist": "Drawing on a whiteboard in a meeting.",
        "expect": {"missing_article": slug, "topic": "teams"},
        "seen_in": [{"org": org, "url": "https://example.invalid/a"}],
    }


@pytest.fixture
def two_sided_gap(tmp_path) -> Path:
    # One missing question, recorded once per survey side, each in one organisation.
    write_survey(tmp_path, "train", ["oslo"], [missing("tr_whiteboard", "oslo")])
    write_survey(tmp_path, "eval", ["bergen"], [missing("ev_whiteboard", "bergen")])
    return tmp_path


def survey_of(catalogue: Catalogue, directory: Path):
    return load_survey({a.id: a.topic for a in catalogue.articles.values()}, directory)


def test_a_missing_article_seen_in_two_organisations_is_a_gap(catalogue, two_sided_gap):
    rows = coverage(catalogue, survey_of(catalogue, two_sided_gap))
    assert [(row.type_id, row.sources) for row in gaps(rows)] == [
        ("ev_whiteboard", 2),
        ("tr_whiteboard", 2),
    ]
    assert "2 uncovered seen in >= 2 sources" in report(rows)


def test_a_recorded_reason_covers_a_gap(catalogue, two_sided_gap):
    survey = survey_of(catalogue, two_sided_gap)
    rows = coverage(catalogue, survey, {"teams_whiteboard": "the whiteboard app is not ours"})
    assert gaps(rows) == []
    assert all(row.reason == "the whiteboard app is not ours" for row in rows)
    assert "reason: the whiteboard app is not ours" in report(rows)


def test_an_article_named_like_the_missing_one_covers_it(catalogue, tmp_path):
    write_survey(
        tmp_path,
        "train",
        ["oslo", "tromso"],
        [missing("tr_a", "oslo", "teams_tips"), missing("tr_b", "tromso", "teams_tips")],
    )
    rows = coverage(catalogue, survey_of(catalogue, tmp_path))
    assert gaps(rows) == [] and {row.answer for row in rows} == {"article teams_tips"}


def test_a_question_seen_once_is_reported_but_not_a_gap(catalogue, tmp_path):
    write_survey(tmp_path, "train", ["oslo"], [missing("tr_whiteboard", "oslo")])
    rows = coverage(catalogue, survey_of(catalogue, tmp_path))
    assert MIN_SOURCES == 2
    assert gaps(rows) == [] and not rows[0].covered
    assert "-- NONE --" in report(rows)


def test_other_it_and_out_of_scope_are_covered_by_their_honest_reply(catalogue, tmp_path):
    types = [
        {
            "id": "tr_printer",
            "gist": "Printer jam.",
            "expect": {"other_it": "printer"},
            "seen_in": [{"org": "oslo", "url": "u"}, {"org": "tromso", "url": "u"}],
        },
        {
            "id": "tr_salary",
            "gist": "Salary date.",
            "expect": {"out_of_scope": "hr"},
            "seen_in": [{"org": "oslo", "url": "u"}, {"org": "tromso", "url": "u"}],
        },
    ]
    write_survey(tmp_path, "train", ["oslo", "tromso"], types)
    rows = {row.type_id: row for row in coverage(catalogue, survey_of(catalogue, tmp_path))}
    assert rows["tr_printer"].answer == "annet IT: printer" and rows["tr_printer"].sources == 2
    assert rows["tr_salary"].answer == "utenfor: hr"


def test_reasons_file_must_map_slugs_to_reasons(tmp_path):
    assert load_reasons(tmp_path) == {}
    (tmp_path / "coverage.yml").write_text("reasons:\n  teams_whiteboard: ''\n", encoding="utf-8")
    with pytest.raises(ContentError, match="coverage.yml"):
        load_reasons(tmp_path)
    (tmp_path / "coverage.yml").write_text(
        "reasons:\n  teams_whiteboard: not ours\n", encoding="utf-8"
    )
    assert load_reasons(tmp_path) == {"teams_whiteboard": "not ours"}


def test_the_command_prints_the_report_and_passes():
    result = subprocess.run(
        [sys.executable, "-m", "bot.content.coverage"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 uncovered seen in >= 2 sources" in result.stdout
    assert "teams: " in result.stdout and "question types covered" in result.stdout

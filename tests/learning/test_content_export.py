"""`export-content` writes approved changes into the content files; a change whose file
changed since it was approved is refused and left for review, never overwritten."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from bot import content_changes
from bot.content.catalogue import Catalogue
from bot.content_changes import approved_changes
from bot.content_export import ExportError, export, write_changes
from bot.models import ContentChange
from bot.settings import PROJECT_ROOT
from tests.learning.test_content_changes import draft
from tests.review.conftest import database, settings  # noqa: F401 - fixtures
from tests.support.staff import make_miss

NLU = PROJECT_ROOT / "bot" / "data" / "nlu"
EXAMPLE = "deltakerne ser bare en svart flate når jeg viser lysbildene"


@pytest.fixture
def content(tmp_path):
    """A copy of knowledge/ and bot/data/nlu to export into."""
    knowledge, nlu = tmp_path / "knowledge", tmp_path / "nlu"
    shutil.copytree(PROJECT_ROOT / "knowledge", knowledge)
    shutil.copytree(NLU, nlu)
    return knowledge, nlu


def statuses(database):  # noqa: F811
    return database.run(
        lambda s: [
            (c.kind, c.status, c.note) for c in s.query(ContentChange).order_by(ContentChange.id)
        ]
    )


def decide_some(database, knowledge, other_it: bool = True):  # noqa: F811
    """An example for an article, one for other IT, an answer edit and a new article."""
    article = make_miss(database, EXAMPLE)
    printer = make_miss(database, "skrivaren på rådhuset [2. etg] tek ikkje imot jobbar")

    def work(session):
        content_changes.assign(session, article, "faq/teams_screen_share", "kari", knowledge)
        if other_it:
            content_changes.assign(session, printer, "other_it", "kari", knowledge)
        content_changes.edit_article(
            session,
            "sd_opening_hours",
            "answer",
            "Kundeservice svarer på hverdager.",
            "ola",
            knowledge,
        )
        content_changes.create_draft(session, draft(), "kari", knowledge)

    database.run(work)


def test_an_export_writes_every_change_and_the_files_then_agree(database, content):  # noqa: F811
    knowledge, nlu = content
    decide_some(database, knowledge)
    untouched = (knowledge / "teams" / "teams_mobile.yml").read_bytes()

    result = database.run(lambda s: export(s, "cli:test", knowledge, nlu))

    assert len(result.exported) == 4 and not result.refused
    loaded = Catalogue.load(knowledge)
    assert EXAMPLE in loaded.articles["teams_screen_share"].examples
    assert loaded.articles["sd_opening_hours"].answer.strip() == "Kundeservice svarer på hverdager."
    assert loaded.articles["skrive_ut_fra_teams"].title == "Skrive ut fra Teams"
    assert "skriv eg ut frå teams" in " ".join(loaded.articles["skrive_ut_fra_teams"].examples)
    other_it = (nlu / "other_it.yml").read_text(encoding="utf-8")
    # Brackets would be an entity annotation to Rasa; the service is "other".
    assert (
        "skrivaren på rådhuset (2. etg) tek ikkje imot jobbar\n    metadata:\n      service: other"
        in other_it
    )
    # Only the changed files differ; comments and layout of the rest stay.
    assert (knowledge / "teams" / "teams_mobile.yml").read_bytes() == untouched
    assert "# Training examples for faq/teams_screen_share" in (
        knowledge / "teams" / "teams_screen_share.yml"
    ).read_text(encoding="utf-8")
    assert [s for _, s, _ in statuses(database)] == ["exported"] * 4
    # Nothing approved is left that the files lack: a second export writes nothing.
    again = database.run(lambda s: export(s, "cli:test", knowledge, nlu))
    assert not again.exported and not again.files and not again.refused
    assert database.run(approved_changes) == []


def test_a_change_whose_file_changed_since_is_refused_and_left_for_review(database, content):  # noqa: F811
    knowledge, nlu = content
    decide_some(database, knowledge)
    edited = knowledge / "teams" / "teams_screen_share.yml"
    by_hand = edited.read_text(encoding="utf-8").replace(
        "examples: |\n", "examples: |\n  - vise skjerm\n"
    )
    edited.write_text(by_hand, encoding="utf-8")

    result = database.run(lambda s: export(s, "cli:test", knowledge, nlu))

    assert [c.kind for c, _ in result.refused] == ["example"]
    assert edited.read_text(encoding="utf-8") == by_hand  # not overwritten
    rows = statuses(database)
    assert rows[0][1] == "refused" and "endret etter at endringen ble godkjent" in rows[0][2]
    assert [s for _, s, _ in rows[1:]] == ["exported"] * 3


def test_content_that_would_not_load_restores_every_file(database, content, monkeypatch):  # noqa: F811
    knowledge, nlu = content
    decide_some(database, knowledge)
    before = {p: p.read_bytes() for p in knowledge.rglob("*.yml")}
    real_load = Catalogue.load
    calls = []

    def load_fails_after_writing(directory):
        calls.append(directory)
        if len(calls) > 1:
            raise ValueError("broken")
        return real_load(directory)

    monkeypatch.setattr(Catalogue, "load", staticmethod(load_fails_after_writing))
    with pytest.raises(ExportError):
        database.run(lambda s: export(s, "cli:test", knowledge, nlu))
    assert {p: p.read_bytes() for p in knowledge.rglob("*.yml")} == before
    assert [s for _, s, _ in statuses(database)] == ["approved"] * 4  # rolled back


def test_the_trainer_copy_gets_the_changes_and_the_rows_stay_approved(database, content):  # noqa: F811
    knowledge, nlu = content
    decide_some(database, knowledge)
    changes = database.run(approved_changes)
    written = write_changes(changes, knowledge, nlu)
    assert {p.name for p in written} == {
        "teams_screen_share.yml",
        "other_it.yml",
        "sd_opening_hours.yml",
        "skrive_ut_fra_teams.yml",
    }
    assert [s for _, s, _ in statuses(database)] == ["approved"] * 4


def test_the_cli_exports_and_says_what_it_refused(database, settings, content):  # noqa: F811
    knowledge, _ = content
    # Article changes only: the command writes NLU examples into this checkout's bot/data.
    decide_some(database, knowledge, other_it=False)
    (knowledge / "service_desk" / "sd_opening_hours.yml").write_text(
        (knowledge / "service_desk" / "sd_opening_hours.yml").read_text(encoding="utf-8") + "\n",
        encoding="utf-8",
    )
    env = {**settings.child_environment(), "RAKEL_KNOWLEDGE_DIR": str(knowledge)}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "export-content"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "exported 2 change(s), refused 1" in done.stdout
    assert "sd_opening_hours.yml er endret etter at endringen ble godkjent" in done.stderr
    refused = database.run(lambda s: s.query(ContentChange).filter_by(kind="answer").one())
    assert refused.status == "refused"
    assert json.loads(refused.after) == "Kundeservice svarer på hverdager."
    assert EXAMPLE in Catalogue.load(knowledge).articles["teams_screen_share"].examples

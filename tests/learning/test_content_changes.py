"""Staff decisions become approved, audited content changes; bad drafts store nothing."""

from __future__ import annotations

import hashlib
import json

import pytest

from bot import content_changes
from bot.content_changes import ChangeError, Draft
from bot.models import ContentAudit, ContentChange, NluMiss
from bot.settings import PROJECT_ROOT
from tests.review.conftest import database, settings  # noqa: F401 - fixtures
from tests.support.staff import make_miss, make_ticket

KNOWLEDGE = PROJECT_ROOT / "knowledge"
EXAMPLES = "\n".join(
    [
        "skrive ut fra teams",
        "printe et dokument i teams",
        "hvordan skriver jeg ut fra en teams-chat",
        "utskrift av fil i teams",
        "skrive ut vedlegg i teams",
        "printe fra teams på pc",
        "teams utskrift",
        "korleis skriv eg ut frå teams",
        "skrive ut møtenotat i teams",
        "skrive ut en fil fra et team",
    ]
)


def draft(**fields) -> Draft:
    values = {
        "title": "Skrive ut fra Teams",
        "answer": "Åpne filen i appen den hører til (Word, Excel), og skriv ut derfra.",
        "topic": "teams",
        "examples": EXAMPLES,
        "report_section": "",
        "general_guidance": True,
    }
    return Draft(**{**values, **fields})


def rows(database):  # noqa: F811
    return database.run(
        lambda s: (
            [
                (c.kind, c.intent, c.status, json.loads(c.after), c.created_by)
                for c in s.query(ContentChange).order_by(ContentChange.id)
            ],
            [
                (a.actor, a.action, a.field, a.old_value, a.new_value)
                for a in s.query(ContentAudit).order_by(ContentAudit.id)
            ],
        )
    )


def test_assigning_a_miss_to_an_article_is_an_approved_audited_example(database):  # noqa: F811
    miss = make_miss(database, "kameraet er svart i møtet", kind="rephrased")
    database.run(
        lambda s: content_changes.assign(s, miss, "faq/teams_camera_sound", "kari", KNOWLEDGE)
    )
    change = database.run(lambda s: s.query(ContentChange).one())
    path = KNOWLEDGE / "teams" / "teams_camera_sound.yml"
    assert (change.path, change.base_sha256) == (
        "knowledge/teams/teams_camera_sound.yml",
        hashlib.sha256(path.read_bytes()).hexdigest(),
    )
    changes, audit = rows(database)
    assert changes == [
        ("example", "faq/teams_camera_sound", "approved", "kameraet er svart i møtet", "kari")
    ]
    assert [c.id for c in database.run(content_changes.approved_changes)] == [change.id]
    assert audit == [
        ("kari", "assigned", "corrected_intent", None, "faq/teams_camera_sound"),
        ("kari", "approved", "example", None, '"kameraet er svart i møtet"'),
    ]


def test_other_it_then_dismissed_withdraws_the_example(database):  # noqa: F811
    miss = make_miss(database, "skriveren blinker rødt")
    database.run(lambda s: content_changes.assign(s, miss, "other_it", "kari", KNOWLEDGE))
    change = database.run(lambda s: s.query(ContentChange).one())
    assert (change.intent, change.path) == ("other_it", "bot/data/nlu/other_it.yml")
    database.run(lambda s: content_changes.dismiss(s, miss, "ola"))
    changes, audit = rows(database)
    assert [c[2] for c in changes] == ["withdrawn"]
    assert [a[:2] for a in audit] == [
        ("kari", "assigned"),
        ("kari", "approved"),
        ("ola", "withdrawn"),
        ("ola", "dismissed"),
    ]
    stored = database.run(lambda s: s.get(NluMiss, miss))
    assert (stored.corrected_intent, stored.dismissed_by) == (None, "ola")
    assert database.run(content_changes.approved_changes) == []  # training skips it


def test_an_unknown_intent_is_refused_and_nothing_stored(database):  # noqa: F811
    miss = make_miss(database, "hei")
    with pytest.raises(ChangeError, match="Ukjent intensjon"):
        database.run(
            lambda s: content_changes.assign(s, miss, "faq/finnes_ikke", "kari", KNOWLEDGE)
        )
    assert rows(database) == ([], [])


def test_a_ticket_message_is_flagged_once_and_bot_turns_not_at_all(database):  # noqa: F811
    public_id = make_ticket(database, conversation_id="conv-t")
    first = database.run(lambda s: content_changes.flag_ticket_message(s, public_id, 0, "kari").id)
    again = database.run(lambda s: content_changes.flag_ticket_message(s, public_id, 0, "kari").id)
    assert first == again
    miss = database.run(lambda s: s.get(NluMiss, first))
    assert (miss.kind, miss.conversation_id) == ("staff_flagged", "conv-t")
    assert (
        database.run(lambda s: content_changes.flag_ticket_message(s, public_id, 1, "kari")) is None
    )
    assert (
        database.run(lambda s: content_changes.flag_ticket_message(s, "RAK-9", 0, "kari")) is None
    )


def test_a_valid_draft_is_stored_as_a_new_article_change(database):  # noqa: F811
    database.run(lambda s: content_changes.create_draft(s, draft(), "kari", KNOWLEDGE))
    changes, audit = rows(database)
    kind, intent, status, data, _ = changes[0]
    assert (kind, intent, status) == ("new_article", "faq/skrive_ut_fra_teams", "approved")
    assert data["source"] == {"report_sections": [], "general_guidance": True}
    assert len(data["examples"].splitlines()) == 10
    assert [a[1] for a in audit] == ["approved"]


def test_a_report_figure_in_its_cited_section_passes(database):  # noqa: F811
    answer = "Kundeservice tok imot 17 334 henvendelser i 2020."
    database.run(
        lambda s: content_changes.create_draft(
            s,
            draft(
                title="Henvendelser til Kundeservice",
                answer=answer,
                report_section="2.1.1 KUNDESERVICE",
                general_guidance=False,
            ),
            "kari",
            KNOWLEDGE,
        )
    )
    data = rows(database)[0][0][3]
    assert data["report_facts"] == ["17334", "2020"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"general_guidance": False}, "Oppgi en kilde"),
        (
            {
                "answer": "Sykefraværet var 4,44 % i 2020.",
                "report_section": "2.1.1 KUNDESERVICE",
                "general_guidance": False,
            },
            "Tallet 4,44 står ikke i avsnittet du viser til",
        ),
        (
            {"answer": "Over 123456 brukere har Teams."},
            "Tallet 123456 i svaret står ikke i årsrapporten",
        ),
        (
            {"answer": "Skriv ut. " * 120},
            "Svaret er for langt: 1199 tegn. Det kan ha høyst 1000 tegn.",
        ),
        ({"topic": "kaffe"}, "Ukjent tema «kaffe»"),
        ({"examples": "skrive ut"}, "Skriv minst 10 eksempelspørsmål, ett per linje (nå 1)"),
    ],
)
def test_a_bad_draft_gets_a_norwegian_error_and_nothing_is_saved(database, fields, message):  # noqa: F811
    with pytest.raises(ChangeError) as refused:
        database.run(lambda s: content_changes.create_draft(s, draft(**fields), "kari", KNOWLEDGE))
    assert any(message in p for p in refused.value.problems), refused.value.problems
    assert rows(database) == ([], [])


def test_a_draft_with_the_title_of_an_article_is_refused(database):  # noqa: F811
    database.run(lambda s: content_changes.create_draft(s, draft(), "kari", KNOWLEDGE))
    with pytest.raises(ChangeError, match="finnes allerede"):
        database.run(lambda s: content_changes.create_draft(s, draft(), "ola", KNOWLEDGE))


def test_editing_an_answer_records_before_after_and_the_file_hash(database):  # noqa: F811
    path = KNOWLEDGE / "teams" / "teams_breakout_rooms.yml"
    before = content_changes.catalogue(KNOWLEDGE).articles["teams_breakout_rooms"].answer
    new = "Grupperom styrer du som arrangør fra Teams-appen på PC-en."
    database.run(
        lambda s: content_changes.edit_article(
            s, "teams_breakout_rooms", "answer", new, "kari", KNOWLEDGE
        )
    )
    change = database.run(lambda s: s.query(ContentChange).one())
    assert (change.kind, json.loads(change.before), json.loads(change.after)) == (
        "answer",
        before,
        new,
    )
    assert change.base_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    audit = rows(database)[1]
    assert audit == [
        (
            "kari",
            "approved",
            "answer",
            json.dumps(before, ensure_ascii=False),
            json.dumps(new, ensure_ascii=False),
        )
    ]
    # The next edit starts from the approved text, not the file's.
    newer = new + " Deltakerne flyttes automatisk."
    database.run(
        lambda s: content_changes.edit_article(
            s, "teams_breakout_rooms", "answer", newer, "ola", KNOWLEDGE
        )
    )
    latest = database.run(
        lambda s: s.query(ContentChange).order_by(ContentChange.id.desc()).first()
    )
    assert json.loads(latest.before) == new


def test_an_edit_with_a_figure_not_in_the_report_is_refused(database):  # noqa: F811
    with pytest.raises(ChangeError, match="Tallet 987654"):
        database.run(
            lambda s: content_changes.edit_article(
                s, "teams_breakout_rooms", "answer", "Opptil 987654 grupperom.", "kari", KNOWLEDGE
            )
        )
    assert rows(database) == ([], [])


def test_example_questions_are_masked_before_they_are_stored(database):  # noqa: F811
    examples = EXAMPLES + "\nskrive ut, ring meg på 912 34 567"
    database.run(
        lambda s: content_changes.create_draft(s, draft(examples=examples), "kari", KNOWLEDGE)
    )
    data = rows(database)[0][0][3]
    assert data["examples"].splitlines()[-1] == "- skrive ut, ring meg på [telefonnummer fjernet]"

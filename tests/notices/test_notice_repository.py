"""The notice repository: what a notice may hold, its audit trail, what users see."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bot import notices
from bot.models import Notice, NoticeAudit
from bot.notices import NoticeError
from tests.notices.conftest import notice_values


def count(database, model) -> int:
    return database.run(lambda s: s.execute(select(func.count(model.id))).scalar_one())


def test_create_stores_the_notice_with_a_created_audit_row(database):
    notice = database.run(lambda s: notices.create_notice(s, "kari", notice_values()))
    stored = database.run(lambda s: notices.get_notice(s, notice.id))
    assert stored.title == "Teams er nede"
    assert notices.municipalities_of(stored) == ["Molde"]
    assert stored.created_by == "kari"
    audit = database.run(lambda s: notices.history(s, stored))
    assert [(a.actor, a.action) for a in audit] == [("kari", "created")]


def test_alle_means_every_municipality_of_the_catalogue(database):
    notice = database.run(
        lambda s: notices.create_notice(s, "kari", notice_values(municipalities="alle"))
    )
    assert notices.municipalities_of(notice) == ["Aukra", "Molde", "Rauma", "Vestnes"]


@pytest.mark.parametrize(
    "overrides,field,words",
    [
        (
            {"expected_end_at": datetime.now(timezone.utc) - timedelta(hours=2)},
            "expected_end_at",
            "after starts_at",
        ),
        ({"service": "skrivere"}, "service", "one of teams"),
        ({"municipalities": ["Molde", "Oslo"]}, "municipalities", "unknown 'Oslo'"),
        ({"municipalities": []}, "municipalities", "one or more"),
        ({"text": "x" * 10_240}, "text", "at most 2000 characters (got 10240)"),
        ({"text": "Se <a href='http://x'>her</a>"}, "text", "without HTML"),
        ({"title": "<script>alert(1)</script>"}, "title", "without HTML"),
        ({"title": "   "}, "title", "must not be empty"),
        ({"status": "ferdig"}, "status", "one of planlagt, aktiv, lost"),
        ({"starts_at": "i morgen"}, "starts_at", "ISO 8601"),
        ({"starts_at": "2026-12-01T10:00"}, "starts_at", "time zone offset"),
        ({"service": "named_system"}, "system_name", "name the system"),
        ({"actor": "mallory"}, "actor", "not a notice field"),
    ],
)
def test_bad_input_is_refused_precisely_and_nothing_is_stored(database, overrides, field, words):
    with pytest.raises(NoticeError) as refused:
        database.run(lambda s: notices.create_notice(s, "kari", notice_values(**overrides)))
    assert refused.value.field == field
    assert words in refused.value.message
    assert count(database, Notice) == 0
    assert count(database, NoticeAudit) == 0


def test_a_named_system_notice_keeps_the_systems_name(database):
    notice = database.run(
        lambda s: notices.create_notice(
            s, "kari", notice_values(service="named_system", system_name="Gerica")
        )
    )
    assert notice.system_name == "Gerica"


def test_edit_audits_each_changed_field_and_a_refused_edit_changes_nothing(database):
    notice = database.run(lambda s: notices.create_notice(s, "kari", notice_values()))

    def edit(session, changes):
        stored = notices.get_notice(session, notice.id)
        return notices.update_notice(session, stored, "ola", changes)

    database.run(lambda s: edit(s, {"title": "Teams er tregt", "text": notice.text}))
    end = notice.starts_at - timedelta(minutes=5)
    with pytest.raises(NoticeError):
        database.run(lambda s: edit(s, {"title": "Endret", "expected_end_at": end}))
    stored = database.run(lambda s: notices.get_notice(s, notice.id))
    assert stored.title == "Teams er tregt"
    audit = database.run(lambda s: notices.history(s, stored))
    assert [(a.actor, a.action, a.field, a.old_value, a.new_value) for a in audit] == [
        ("kari", "created", None, None, None),
        ("ola", "changed", "title", "Teams er nede", "Teams er tregt"),
    ]


def test_a_passed_expected_end_flags_overdue_but_keeps_the_notice_active(database):
    start = datetime.now(timezone.utc) - timedelta(hours=3)
    notice = database.run(
        lambda s: notices.create_notice(
            s,
            "kari",
            notice_values(starts_at=start, expected_end_at=start + timedelta(hours=1)),
        )
    )
    stored = database.run(lambda s: notices.get_notice(s, notice.id))
    assert notices.is_overdue(stored)
    assert stored.status == "aktiv"
    assert [n.id for n in database.run(lambda s: notices.active_notices(s, "Molde"))] == [notice.id]


def test_resolve_ends_the_notice_for_users(database):
    notice = database.run(lambda s: notices.create_notice(s, "kari", notice_values()))

    def resolve(session):
        stored = notices.get_notice(session, notice.id)
        return notices.update_notice(session, stored, "kari", {"status": "lost"})

    resolved = database.run(resolve)
    assert resolved.resolved_at is not None
    assert not notices.is_overdue(resolved)
    assert database.run(lambda s: notices.active_notices(s)) == []


def test_users_see_only_started_active_notices_of_their_municipality(database):
    now = datetime.now(timezone.utc)
    molde = database.run(lambda s: notices.create_notice(s, "kari", notice_values()))
    database.run(
        lambda s: notices.create_notice(s, "kari", notice_values(status="planlagt", title="Plan"))
    )
    database.run(
        lambda s: notices.create_notice(
            s,
            "kari",
            notice_values(title="Senere", starts_at=now + timedelta(hours=1), expected_end_at=None),
        )
    )
    rauma = database.run(
        lambda s: notices.create_notice(s, "kari", notice_values(municipalities=["Rauma"]))
    )
    assert [n.id for n in database.run(lambda s: notices.active_notices(s, "Molde"))] == [molde.id]
    assert {n.id for n in database.run(lambda s: notices.active_notices(s))} == {
        molde.id,
        rauma.id,
    }

"""HTTP tests of the "Driftsmeldinger" staff page and the /api/notices JSON API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot import notices
from bot.models import Notice, NoticeAudit
from bot.web.notice_changes import local_input
from tests.notices.conftest import AGENT, AGENT_PASSWORD, notice_values
from tests.support.staff import ADMIN, ADMIN_PASSWORD, csrf_from


async def login(client: TestClient, username: str = ADMIN, password: str = ADMIN_PASSWORD):
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "csrf_token": csrf_from(await page.text()),
            "username": username,
            "password": password,
            "next": "/staff/notices",
        },
        allow_redirects=False,
    )
    assert response.status == 303


async def token(client: TestClient, path: str = "/staff/notices") -> str:
    page = await client.get(path)
    assert page.status == 200
    return csrf_from(await page.text())


def local(value: datetime) -> str:
    """What a browser's datetime-local input sends (Norwegian wall clock)."""
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo("Europe/Oslo")).strftime("%Y-%m-%dT%H:%M")


def form(**overrides) -> dict:
    now = datetime.now(timezone.utc)
    return {
        "title": "Teams er nede",
        "text": "Teams-møter virker ikke. Vi jobber med saken.",
        "service": "teams",
        "municipalities": "Molde",
        "starts_at": local(now - timedelta(hours=1)),
        "expected_end_at": local(now + timedelta(hours=2)),
        "status": "aktiv",
        **overrides,
    }


def count(database, model) -> int:
    return database.run(lambda s: s.execute(select(func.count(model.id))).scalar_one())


def stored(database) -> list[Notice]:
    return database.run(lambda s: list(s.execute(select(Notice)).scalars()))


# --- the page -------------------------------------------------------------------


async def test_the_page_needs_a_login(client):
    response = await client.get("/staff/notices", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].startswith("/login?next=")


async def test_admin_publishes_a_notice_and_the_page_lists_it(client, database):
    await login(client)
    csrf = await token(client)
    response = await client.post(
        "/staff/notices", data={"csrf_token": csrf, **form()}, allow_redirects=False
    )
    assert response.status == 303
    [notice] = stored(database)
    assert response.headers["Location"] == f"/staff/notices/{notice.id}"
    assert (notice.status, notice.created_by) == ("aktiv", ADMIN)
    assert notices.municipalities_of(notice) == ["Molde"]
    # The form's local 15:30 is stored as the same instant in UTC.
    assert notices.as_utc(notice.starts_at) <= datetime.now(timezone.utc) - timedelta(minutes=59)
    listing = await (await client.get("/staff/notices")).text()
    assert "Teams er nede" in listing and "Aktiv" in listing and "Forfalt" not in listing


async def test_edit_and_resolve_are_audited(client, database):
    await login(client)
    notice = database.run(lambda s: notices.create_notice(s, ADMIN, notice_values()))
    path = f"/staff/notices/{notice.id}"
    csrf = await token(client, path)
    unchanged = form(
        text=notice.text,
        starts_at=local_input(notice.starts_at),
        expected_end_at=local_input(notice.expected_end_at),
    )
    edited = await client.post(
        path,
        data={"csrf_token": csrf, **unchanged, "title": "Teams er tregt"},
        allow_redirects=False,
    )
    assert edited.status == 303
    resolved = await client.post(
        path,
        data={"csrf_token": csrf, "only": "status", "status": "lost"},
        allow_redirects=False,
    )
    assert resolved.status == 303
    [after] = stored(database)
    assert (after.title, after.status) == ("Teams er tregt", "lost")
    assert after.resolved_at is not None
    audit = database.run(lambda s: notices.history(s, after))
    assert [(a.action, a.field) for a in audit] == [
        ("created", None),
        ("changed", "title"),
        ("changed", "status"),
    ]
    page = await (await client.get(path)).text()
    assert "endret tittel: «Teams er nede» → «Teams er tregt»" in page


async def test_a_passed_expected_end_is_flagged_overdue_and_stays_active(client, database):
    await login(client)
    start = datetime.now(timezone.utc) - timedelta(hours=3)
    notice = database.run(
        lambda s: notices.create_notice(
            s, ADMIN, notice_values(starts_at=start, expected_end_at=start + timedelta(hours=1))
        )
    )
    listing = await (await client.get("/staff/notices")).text()
    assert "Forfalt" in listing
    page = await (await client.get(f"/staff/notices/{notice.id}")).text()
    assert "Forfalt: forventet ferdig" in page
    assert stored(database)[0].status == "aktiv"


async def test_a_form_without_the_csrf_token_is_refused(client, database):
    await login(client)
    response = await client.post("/staff/notices", data=form(), allow_redirects=False)
    assert response.status == 403
    assert count(database, Notice) == 0


async def test_a_non_admin_may_plan_but_not_publish(client, database):
    await login(client, AGENT, AGENT_PASSWORD)
    csrf = await token(client)
    refused = await client.post("/staff/notices", data={"csrf_token": csrf, **form()})
    assert refused.status == 403
    assert "Bare administratorer kan publisere" in await refused.text()
    assert count(database, Notice) == 0
    planned = await client.post(
        "/staff/notices",
        data={"csrf_token": csrf, **form(status="planlagt")},
        allow_redirects=False,
    )
    assert planned.status == 303
    [notice] = stored(database)
    publish = await client.post(
        f"/staff/notices/{notice.id}", data={"csrf_token": csrf, **form(status="aktiv")}
    )
    assert publish.status == 403
    assert stored(database)[0].status == "planlagt"


@pytest.mark.parametrize(
    "overrides,shown",
    [
        (
            {"expected_end_at": local(datetime.now(timezone.utc) - timedelta(hours=3))},
            "forventet ferdig – must be after starts_at",
        ),
        ({"service": "skrivere"}, "tjeneste – must be one of"),
        ({"municipalities": "Oslo"}, "kommuner – unknown &#39;Oslo&#39;"),
        ({"text": "x" * 10_240}, "tekst – at most 2000 characters"),
        ({"text": "<b>Teams</b> er nede"}, "tekst – must be plain text"),
        ({"starts_at": "i går"}, "start – must be a date and time"),
    ],
)
async def test_bad_input_shows_the_field_and_stores_nothing(client, database, overrides, shown):
    await login(client)
    csrf = await token(client)
    response = await client.post("/staff/notices", data={"csrf_token": csrf, **form(**overrides)})
    assert response.status == 400
    assert shown in await response.text()
    assert count(database, Notice) == 0
    assert count(database, NoticeAudit) == 0


# --- the API --------------------------------------------------------------------


def api_body(**overrides) -> dict:
    now = datetime.now(timezone.utc)
    return {
        "title": "E-post er nede",
        "text": "Vi får ikke sendt e-post. Vi jobber med saken.",
        "service": "email",
        "municipalities": "alle",
        "starts_at": (now - timedelta(minutes=10)).isoformat(),
        "status": "aktiv",
        **overrides,
    }


async def test_api_needs_a_session(client, database):
    assert (await client.get("/api/notices")).status == 401
    assert (await client.post("/api/notices", json=api_body())).status == 401
    assert count(database, Notice) == 0


async def test_api_creates_lists_and_resolves(client, database):
    await login(client)
    created = await client.post("/api/notices", json=api_body())
    assert created.status == 201
    body = await created.json()
    assert created.headers["Location"] == f"/api/notices/{body['id']}"
    assert body["municipalities"] == ["Aukra", "Molde", "Rauma", "Vestnes"]
    assert (body["status"], body["overdue"], body["service_label"]) == ("aktiv", False, "E-post")
    active = await (await client.get("/api/notices?status=aktiv")).json()
    assert [n["id"] for n in active["items"]] == [body["id"]]
    patched = await client.patch(f"/api/notices/{body['id']}", json={"status": "lost"})
    assert patched.status == 200
    assert (await patched.json())["resolved_at"] is not None
    assert (await (await client.get("/api/notices?status=aktiv")).json())["items"] == []


async def test_api_flags_overdue(client, database):
    await login(client)
    start = datetime.now(timezone.utc) - timedelta(hours=2)
    created = await client.post(
        "/api/notices",
        json=api_body(
            starts_at=start.isoformat(), expected_end_at=(start + timedelta(hours=1)).isoformat()
        ),
    )
    notice_id = (await created.json())["id"]
    body = await (await client.get(f"/api/notices/{notice_id}")).json()
    assert (body["status"], body["overdue"]) == ("aktiv", True)


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"expected_end_at": "2020-01-01T00:00:00+01:00"}, "expected_end_at"),
        ({"service": "skrivere"}, "service"),
        ({"municipalities": ["Trondheim"]}, "municipalities"),
        ({"text": "x" * 10_240}, "text"),
        ({"title": "<img src=x onerror=alert(1)>"}, "title"),
        ({"starts_at": "2026-12-01T10:00:00"}, "starts_at"),
        ({"status": "ferdig"}, "status"),
        ({"created_by": "mallory"}, "created_by"),
    ],
)
async def test_api_refuses_bad_input_with_the_field(client, database, overrides, field):
    await login(client)
    response = await client.post("/api/notices", json=api_body(**overrides))
    assert response.status == 400
    body = await response.json()
    assert (body["error"], body["field"]) == ("invalid_parameter", field)
    assert count(database, Notice) == 0


async def test_api_refuses_publishing_by_a_non_admin(client, database):
    await login(client, AGENT, AGENT_PASSWORD)
    response = await client.post("/api/notices", json=api_body())
    assert response.status == 403
    assert (await response.json())["error"] == "forbidden"
    assert count(database, Notice) == 0


async def test_api_refuses_a_non_json_body_and_an_unknown_notice(client, database):
    await login(client)
    assert (await client.post("/api/notices", data="title=x")).status == 415
    missing = await client.patch("/api/notices/999", json={"status": "lost"})
    assert missing.status == 404


async def test_api_responses_match_the_openapi_document(client, database):
    from jsonschema import validate

    from bot.web import api

    spec = api.load_openapi()

    def schema(name):
        # The components travel with the schema, so `#/components/...` resolves inside it
        # on jsonschema 4.17 (Rasa's pin) and on 4.18+ (RefResolver deprecated) alike.
        return {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}

    def without_nulls(body):
        # OpenAPI 3.0 `nullable` is not JSON Schema: drop nulls before validating.
        if isinstance(body, dict):
            return {k: without_nulls(v) for k, v in body.items() if v is not None}
        if isinstance(body, list):
            return [without_nulls(v) for v in body]
        return body

    def check(body, name):
        validate(without_nulls(body), schema(name))

    await login(client)
    created = await (await client.post("/api/notices", json=api_body())).json()
    check(created, "Notice")
    listing = await (await client.get("/api/notices")).json()
    check(listing, "NoticeList")
    validate(api_body(), schema("NoticeInput"))


@pytest.mark.parametrize(
    "body,field",
    [
        ({"service": ["teams"]}, "service"),
        ({"status": ["aktiv"]}, "status"),
        ({"municipalities": [{"navn": "Molde"}]}, "municipalities"),
        ({"title": 42}, "title"),
        ({"starts_at": 1_790_000_000}, "starts_at"),
    ],
)
async def test_api_refuses_values_of_the_wrong_type_without_a_server_error(
    client, database, body, field
):
    await login(client)
    response = await client.post("/api/notices", json=api_body(**body))
    assert response.status == 400
    assert (await response.json())["field"] == field
    assert count(database, Notice) == 0


async def test_a_notice_number_beyond_the_database_range_is_not_found(client, database):
    await login(client)
    huge = "9" * 30
    assert (await client.get(f"/api/notices/{huge}")).status == 404
    assert (await client.get(f"/staff/notices/{huge}")).status == 404


async def test_staff_close_the_linked_tickets_of_a_resolved_notice(client, database):
    from bot.models import NoticeTicket, Ticket, TicketAudit
    from tests.support.staff import make_ticket

    await login(client, AGENT, AGENT_PASSWORD)
    notice = database.run(lambda s: notices.create_notice(s, ADMIN, notice_values()))
    open_id = make_ticket(database, status="under_arbeid")
    closed_id = make_ticket(database, status="lukket")
    for public_id in (open_id, closed_id):
        database.run(
            lambda s, p=public_id: s.add(
                NoticeTicket(
                    notice_id=notice.id,
                    ticket_id=s.query(Ticket.id).filter(Ticket.public_id == p).scalar(),
                )
            )
        )
    path = f"/staff/notices/{notice.id}"
    csrf = await token(client, path)
    # While the notice is active a linked ticket may be another fault: refused.
    early = await client.post(path, data={"csrf_token": csrf, "only": "tickets"})
    assert early.status == 400
    database.run(
        lambda s: notices.update_notice(
            s, notices.get_notice(s, notice.id), ADMIN, {"status": "lost"}
        )
    )
    page = await (await client.get(path)).text()
    assert "Sett alle koblede saker som løst" in page
    done = await client.post(
        path, data={"csrf_token": csrf, "only": "tickets"}, allow_redirects=False
    )
    assert done.status == 303
    statuses = database.run(lambda s: dict(s.query(Ticket.public_id, Ticket.status).all()))
    assert statuses == {open_id: "lost", closed_id: "lukket"}
    audit = database.run(
        lambda s: (
            s.query(TicketAudit.actor, TicketAudit.field, TicketAudit.new_value)
            .filter(TicketAudit.action == "changed")
            .all()
        )
    )
    assert audit == [(AGENT, "status", "lost")]


async def test_the_owner_of_an_overdue_notice_is_reminded_on_the_queue_page(client, database):
    start = datetime.now(timezone.utc) - timedelta(hours=3)
    overdue = notice_values(
        title="Forfalt Teams", starts_at=start, expected_end_at=start + timedelta(hours=1)
    )
    database.run(lambda s: notices.create_notice(s, ADMIN, overdue))
    database.run(lambda s: notices.create_notice(s, ADMIN, notice_values(title="I rute")))
    await login(client)
    queue = await (await client.get("/staff/")).text()
    assert "Påminnelse: disse driftsmeldingene dine" in queue
    assert "Forfalt Teams" in queue and "I rute" not in queue
    client.session.cookie_jar.clear()
    await login(client, AGENT, AGENT_PASSWORD)  # not theirs: no reminder
    assert "Påminnelse" not in await (await client.get("/staff/")).text()


async def test_the_ticket_page_names_its_notice(client, database):
    from bot.models import NoticeTicket, Ticket
    from tests.support.staff import make_ticket

    notice = database.run(lambda s: notices.create_notice(s, ADMIN, notice_values()))
    linked, alone = make_ticket(database), make_ticket(database)
    database.run(
        lambda s: s.add(
            NoticeTicket(
                notice_id=notice.id,
                ticket_id=s.query(Ticket.id).filter(Ticket.public_id == linked).scalar(),
            )
        )
    )
    await login(client)
    page = await (await client.get(f"/staff/tickets/{linked}")).text()
    assert f'<a href="/staff/notices/{notice.id}">Teams er nede</a> (Aktiv)' in page
    assert (
        "<dt>Driftsmelding</dt>" not in await (await client.get(f"/staff/tickets/{alone}")).text()
    )

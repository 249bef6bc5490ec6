"""HTTP tests of the service-desk pages: login, CSRF, escaping, rate limit, API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.models import TICKET_PRIORITIES, StaffUser, TicketAudit, TicketNote
from bot.web.app import create_app
from bot.web.staff_base import label
from tests.support.staff import (
    ADMIN,
    ADMIN_PASSWORD,
    csrf_from,
    make_miss,
    make_ticket,
    staff_settings,
)


@pytest.fixture
async def client(settings, database) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client


async def login(
    client: TestClient,
    username: str = ADMIN,
    password: str = ADMIN_PASSWORD,
    next_url: str = "/staff/",
):
    page = await client.get("/login")
    token = csrf_from(await page.text())
    return await client.post(
        "/login",
        data={
            "csrf_token": token,
            "username": username,
            "password": password,
            "next": next_url,
        },
        allow_redirects=False,
    )


async def page_token(client: TestClient, path: str) -> str:
    response = await client.get(path)
    assert response.status == 200
    return csrf_from(await response.text())


# --- authentication -------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/staff/",
        "/staff/tickets/RAK-1001",
        "/staff/misses",
        "/staff/stats",
        "/staff/misses/export.yml",
        "/staff/content",
        "/staff/content/draft",
    ],
)
async def test_pages_redirect_to_login_without_session(client, path):
    response = await client.get(path + "?status=ny", allow_redirects=False)
    assert response.status == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [path + "?status=ny"]


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/api/tickets"),
        ("GET", "/api/tickets/RAK-1001"),
        ("PATCH", "/api/tickets/RAK-1001"),
        ("POST", "/api/tickets/RAK-1001/notes"),
    ],
)
async def test_api_answers_401_json_without_session(client, database, method, path):
    public_id = make_ticket(database)
    response = await client.request(
        method, path.replace("RAK-1001", public_id), json={"status": "lukket", "text": "x"}
    )
    assert response.status == 401
    assert (await response.json())["error"] == "unauthorized"
    # and nothing changed
    body = database.run(lambda s: s.execute(select(func.count(TicketAudit.id))).scalar_one())
    assert body == 1


async def test_login_then_logout(client):
    response = await login(client)
    assert response.status == 303
    assert response.headers["Location"] == "/staff/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    queue = await client.get("/staff/")
    assert queue.status == 200
    assert "Innlogget som" in await queue.text()
    token = csrf_from(await queue.text())
    out = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert out.status == 303
    again = await client.get("/staff/", allow_redirects=False)
    assert again.status == 302


async def test_login_redirects_to_next_but_never_off_site(client):
    response = await login(client, next_url="/staff/stats?dager=7")
    assert response.headers["Location"] == "/staff/stats?dager=7"
    client.session.cookie_jar.clear()
    response = await login(client, next_url="//evil.example/")
    assert response.headers["Location"] == "/staff/"


async def test_wrong_password_is_refused(client):
    response = await login(client, password="feil-passord-123")
    assert response.status == 401
    assert "Feil brukernavn eller passord." in await response.text()
    assert (await client.get("/staff/", allow_redirects=False)).status == 302


async def test_unknown_user_is_refused_the_same_way(client):
    response = await login(client, username="ukjent")
    assert response.status == 401
    assert "Feil brukernavn eller passord." in await response.text()


async def test_login_is_rate_limited_per_user_and_address(client):
    for _ in range(5):
        assert (await login(client, password="gjetning-gjetning")).status == 401
    blocked = await login(client)  # even the right password, now
    assert blocked.status == 429
    assert "For mange mislykkede innlogginger" in await blocked.text()
    assert (await client.get("/staff/", allow_redirects=False)).status == 302


async def test_cookie_is_secure_unless_turned_off_for_plain_http(tmp_path, database):
    # "": the product default (staff_settings itself turns it off for the other tests).
    for value, secure in (("", True), ("1", True), ("0", False)):
        settings = staff_settings(tmp_path, RAKEL_COOKIE_SECURE=value)
        async with TestClient(TestServer(create_app(settings))) as client:
            page = await client.get("/login")
            assert ("Secure" in page.headers["Set-Cookie"]) is secure, value


# --- admin bootstrap ------------------------------------------------------------


def _accounts(database):
    return database.run(
        lambda s: [(u.username, u.is_admin) for u in s.execute(select(StaffUser)).scalars()]
    )


async def test_admin_is_created_from_the_environment(client, database):
    assert _accounts(database) == [(ADMIN, True)]
    user = database.run(lambda s: s.execute(select(StaffUser)).scalar_one())
    assert ADMIN_PASSWORD not in user.password_hash
    assert user.password_hash.startswith("$argon2id$")


async def test_no_default_account_when_environment_unset(tmp_path, database):
    settings = staff_settings(tmp_path, RAKEL_ADMIN_USER="", RAKEL_ADMIN_PASSWORD="")
    async with TestClient(TestServer(create_app(settings))) as client:
        assert _accounts(database) == []
        for username, password in [("admin", "admin"), ("admin", ""), ("rakel", "rakel")]:
            response = await login(client, username=username, password=password or "x")
            assert response.status == 401


# --- CSRF -----------------------------------------------------------------------


async def test_forms_without_csrf_token_are_forbidden(client, database):
    public_id = make_ticket(database)
    miss_id = make_miss(database, "skjermen min blinker")
    no_token = await client.post(
        "/login", data={"username": ADMIN, "password": ADMIN_PASSWORD}, allow_redirects=False
    )
    assert no_token.status == 403
    await login(client)
    for path, data in [
        (f"/staff/tickets/{public_id}", {"status": "lukket"}),
        (f"/staff/misses/{miss_id}", {"intent": "faq/teams_camera_sound"}),
        ("/logout", {}),
    ]:
        # Non-ASCII: secrets.compare_digest refuses such strings (it was a 500).
        for token in (None, "forfalsket", "forfalsket-æøå"):
            form = dict(data) if token is None else {**data, "csrf_token": token}
            response = await client.post(path, data=form, allow_redirects=False)
            assert response.status == 403, path
            assert "Skjemaet er utløpt eller ugyldig" in await response.text()
    status = database.run(lambda s: s.execute(select(TicketAudit.action)).scalars().all())
    assert status == ["created"]
    assert (await client.get("/staff/", allow_redirects=False)).status == 200  # still logged in


# --- escaping and headers --------------------------------------------------------

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


async def test_user_text_is_escaped_everywhere(client, database):
    public_id = make_ticket(
        database,
        summary=XSS,
        description=XSS,
        requester_name=XSS,
        transcript=[
            {
                "sender": "user",
                "text": XSS,
                "timestamp": None,
                "buttons": [{"title": XSS, "payload": "/x"}],
            }
        ],
    )
    make_miss(database, XSS)
    await login(client)
    for path in ("/staff/", f"/staff/tickets/{public_id}", "/staff/misses"):
        html = await (await client.get(path)).text()
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(" in html, path


async def test_security_headers_on_staff_pages(client):
    response = await client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = await response.text()
    assert '<html lang="nb">' in html
    assert "<script" not in html and "style=" not in html


async def test_unknown_ticket_gives_friendly_404(client):
    await login(client)
    response = await client.get("/staff/tickets/RAK-999999")
    assert response.status == 404
    assert "Siden finnes ikke." in await response.text()
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- queue and ticket page -------------------------------------------------------


async def test_queue_filters_search_and_counts(client, database):
    make_ticket(database, summary="Teams-kamera svart", municipality="Molde", priority="hoy")
    make_ticket(
        database,
        summary="Mistet mobilen",
        category="two_factor",
        municipality="Rauma",
        status="under_arbeid",
    )
    make_ticket(
        database,
        summary="Ny PC",
        category="pc_replacement",
        municipality="Aukra",
        status="lukket",
        priority="kritisk",
    )
    await login(client)
    html = await (await client.get("/staff/?municipality=Rauma")).text()
    assert "Mistet mobilen" in html and "Teams-kamera svart" not in html
    html = await (await client.get("/staff/?q=MOBILEN")).text()
    assert "Mistet mobilen" in html and "Ny PC" not in html and "Teams-kamera" not in html
    html = await (await client.get("/staff/?q=rak-1003")).text()
    assert "Ny PC" in html and "Mistet mobilen" not in html
    html = await (await client.get("/staff/?priority=kritisk&status=lukket")).text()
    assert "Ny PC" in html and "1 sak" in html
    api = await (await client.get("/api/tickets?category=two_factor")).json()
    assert [t["summary"] for t in api["items"]] == ["Mistet mobilen"]
    counts = (await (await client.get("/api/tickets")).json())["counts"]
    assert counts == {"ny": 1, "under_arbeid": 1, "venter_paa_bruker": 0, "lost": 0, "lukket": 1}


async def test_search_treats_like_wildcards_literally(client, database):
    make_ticket(database, summary="Helt vanlig sak")
    await login(client)
    data = await (await client.get("/api/tickets?q=%25")).json()
    assert data["total"] == 0


async def test_queue_paginates_and_sorts(client, database):
    for i in range(30):
        make_ticket(database, summary=f"Sak nummer {i:02d}")
    await login(client)
    first = await (await client.get("/api/tickets?sort=eldste&per_page=25")).json()
    assert first["pages"] == 2 and len(first["items"]) == 25
    assert first["items"][0]["summary"] == "Sak nummer 00"
    second = await (await client.get("/api/tickets?sort=eldste&page=2")).json()
    assert [t["summary"] for t in second["items"]] == [f"Sak nummer {i}" for i in range(25, 30)]
    html = await (await client.get("/staff/?page=2")).text()
    assert "Side 2 av 2" in html


async def test_ticket_page_shows_chat_and_records_changes(client, database):
    public_id = make_ticket(database)
    await login(client)
    html = await (await client.get(f"/staff/tickets/{public_id}")).text()
    assert "Kameraet virker ikke i Teams" in html
    assert "Klikket på knappen «Nei»" in html
    token = csrf_from(html)
    response = await client.post(
        f"/staff/tickets/{public_id}",
        data={
            "csrf_token": token,
            "status": "under_arbeid",
            "priority": "normal",
            "assignee": "ola",
            "note": "Ringer brukeren i morgen.",
        },
        allow_redirects=False,
    )
    assert response.status == 303
    page = await (await client.get(f"/staff/tickets/{public_id}")).text()
    assert "endret status fra\n" in page or "endret status fra" in page
    assert "«Under arbeid»" in page and "Ringer brukeren i morgen." in page
    rows = database.run(
        lambda s: [
            (a.actor, a.action, a.field, a.old_value, a.new_value)
            for a in s.execute(select(TicketAudit).order_by(TicketAudit.id)).scalars()
        ]
    )
    assert rows == [
        ("rakel", "created", None, None, None),
        (ADMIN, "changed", "status", "ny", "under_arbeid"),
        (ADMIN, "changed", "assignee", None, "ola"),
        (ADMIN, "note", None, None, None),
    ]


async def test_invalid_status_changes_nothing(client, database):
    public_id = make_ticket(database)
    await login(client)
    token = await page_token(client, f"/staff/tickets/{public_id}")
    response = await client.post(
        f"/staff/tickets/{public_id}",
        data={"csrf_token": token, "status": "slettet", "note": "skal ikke lagres"},
    )
    assert response.status == 400
    assert "Ingenting ble endret" in await response.text()
    notes = database.run(lambda s: s.execute(select(func.count(TicketNote.id))).scalar_one())
    assert notes == 0


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"priority": "akutt"}, "priority"),
        ({"status": "slettet"}, "status"),
        ({"assignee": "x" * 129}, "assignee"),
    ],
)
async def test_page_and_api_refuse_the_same_change_alike(client, database, changes, field):
    # One rule behind both: the API names the field the page marks, and neither stores.
    public_id = make_ticket(database)
    await login(client)
    api = await client.patch(f"/api/tickets/{public_id}", json=changes)
    assert api.status == 400
    assert (await api.json())["field"] == field
    token = await page_token(client, f"/staff/tickets/{public_id}")
    page = await client.post(f"/staff/tickets/{public_id}", data={"csrf_token": token, **changes})
    assert page.status == 400
    assert f"Ugyldig verdi for {label('field', field)}." in await page.text()
    audit = database.run(lambda s: s.execute(select(func.count(TicketAudit.id))).scalar_one())
    assert audit == 1  # only "created"


async def test_api_names_the_allowed_values_of_a_refused_field(client, database):
    public_id = make_ticket(database)
    await login(client)
    body = await (await client.patch(f"/api/tickets/{public_id}", json={"priority": "x"})).json()
    assert body == {
        "error": "invalid_parameter",
        "detail": f"must be one of {', '.join(TICKET_PRIORITIES)}",
        "field": "priority",
    }


# --- JSON API ---------------------------------------------------------------------


async def test_api_get_patch_and_note(client, database):
    public_id = make_ticket(database)
    await login(client)
    detail = await (await client.get(f"/api/tickets/{public_id}")).json()
    assert detail["transcript"][2]["clicked"] == "Nei"
    response = await client.patch(
        f"/api/tickets/{public_id}", json={"priority": "kritisk", "assignee": "kari"}
    )
    assert response.status == 200
    body = await response.json()
    assert body["priority"] == "kritisk"
    assert [(a["field"], a["new_value"]) for a in body["audit"] if a["action"] == "changed"] == [
        ("priority", "kritisk"),
        ("assignee", "kari"),
    ]
    note = await client.post(f"/api/tickets/{public_id}/notes", json={"text": "Sjekket lisens"})
    assert note.status == 201
    detail = await (await client.get(f"/api/tickets/{public_id}")).json()
    assert detail["notes"][0]["text"] == "Sjekket lisens"
    assert detail["notes"][0]["author"] == ADMIN


@pytest.mark.parametrize(
    "body,kwargs,status,error",
    [
        ({"status": "borte"}, {}, 400, "invalid_parameter"),
        ({"summary": "ny tekst"}, {}, 400, "invalid_parameter"),
        # keys that are also parameter names of the update function: refused, not a 500
        ({"actor": "mallory"}, {}, 400, "invalid_parameter"),
        ({"ticket": 1, "status": "lost"}, {}, 400, "invalid_parameter"),
        ({"session": None}, {}, 400, "invalid_parameter"),
        ({}, {}, 400, "invalid_parameter"),
        (
            None,
            {
                "data": "status=lukket",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            415,
            "unsupported_media_type",
        ),
        (
            None,
            {"data": "{ikke json", "headers": {"Content-Type": "application/json"}},
            400,
            "invalid_json",
        ),
    ],
)
async def test_api_rejects_bad_updates(client, database, body, kwargs, status, error):
    public_id = make_ticket(database)
    await login(client)
    if body is not None:
        kwargs = {"json": body}
    response = await client.patch(f"/api/tickets/{public_id}", **kwargs)
    assert response.status == status
    assert (await response.json())["error"] == error
    changed = database.run(
        lambda s: s.execute(
            select(func.count(TicketAudit.id)).where(TicketAudit.action == "changed")
        ).scalar_one()
    )
    assert changed == 0


async def test_api_unknown_ticket_and_bad_filter(client):
    await login(client)
    assert (await client.get("/api/tickets/RAK-424242")).status == 404
    response = await client.get("/api/tickets?status=borte")
    assert response.status == 400
    assert (await response.json())["field"] == "status"


async def test_unexpected_error_gives_friendly_page_and_logs(client, monkeypatch, caplog):
    from bot.web import ticket_queries

    def broken(*_args, **_kwargs):
        raise RuntimeError("database exploded: secret detail")

    await login(client)
    monkeypatch.setattr(ticket_queries, "list_tickets", broken)
    response = await client.get("/staff/")
    assert response.status == 500
    html = await response.text()
    assert "Noe gikk galt hos oss" in html and "Feilreferanse" in html
    assert "secret detail" not in html and "Traceback" not in html
    assert "database exploded" in caplog.text
    api = await client.get("/api/tickets")
    assert api.status == 500
    assert (await api.json())["error"] == "internal_error"


async def test_staff_notes_are_masked_for_personal_data(client, database):
    public_id = make_ticket(database)
    await login(client)
    token = await page_token(client, f"/staff/tickets/{public_id}")
    await client.post(
        f"/staff/tickets/{public_id}",
        data={"csrf_token": token, "note": "Brukeren ringte fra +47 912 34 567 i dag."},
    )
    html = await (await client.get(f"/staff/tickets/{public_id}")).text()
    assert "[telefonnummer fjernet]" in html and "912 34 567" not in html

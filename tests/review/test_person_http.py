"""The staff admin page for requests from the person concerned: admins only, CSRF,
export as a JSON download, deletion with a reason, open tickets only on purpose."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.models import PersonDataAudit, Ticket
from bot.web.app import create_app
from bot.web.staff_accounts import create_staff
from tests.review.test_review_http import login, page_token
from tests.support.staff import make_ticket

PAGE = "/staff/personvern"


@pytest.fixture
async def client(settings, database) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client


def tickets_of(database, requester_id):
    return database.run(
        lambda s: [t.public_id for t in s.query(Ticket).filter_by(requester_id=requester_id)]
    )


async def test_only_admins_reach_the_page(client, database):
    database.run(lambda s: create_staff(s, "kari", "et-langt-passord-123"))
    make_ticket(database, requester_id="teams:aad-per", status="lukket")
    assert (await client.get(PAGE, allow_redirects=False)).status == 302  # not logged in
    await login(client, username="kari", password="et-langt-passord-123")
    token = await page_token(client, "/staff/")
    assert "/staff/personvern" not in await (await client.get("/staff/")).text()
    assert (await client.get(f"{PAGE}?identitet=teams:aad-per")).status == 403
    for path in (f"{PAGE}/eksport", f"{PAGE}/slett"):
        form = {"csrf_token": token, "identitet": "teams:aad-per", "begrunnelse": "test"}
        response = await client.post(path, data=form, allow_redirects=False)
        assert response.status == 403
        assert "Bare administratorer har tilgang til denne siden." in await response.text()
    assert tickets_of(database, "teams:aad-per") != []


async def test_admin_finds_exports_and_deletes_one_person(client, database):
    per = make_ticket(database, requester_id="teams:aad-per", status="lukket")
    other = make_ticket(database, requester_id="teams:aad-kari", status="lukket")
    await login(client)

    page = await client.get(f"{PAGE}?identitet=teams:aad-per")
    html = await page.text()
    assert page.status == 200
    assert per in html and other not in html

    token = await page_token(client, f"{PAGE}?identitet=teams:aad-per")
    exported = await client.post(
        f"{PAGE}/eksport", data={"csrf_token": token, "identitet": "teams:aad-per"}
    )
    assert exported.status == 200
    assert "attachment" in exported.headers["Content-Disposition"]
    body = await exported.json(content_type=None)
    assert [t["public_id"] for t in body["tickets"]] == [per]

    no_csrf = await client.post(
        f"{PAGE}/slett", data={"identitet": "teams:aad-per", "begrunnelse": "ba om det"}
    )
    assert no_csrf.status == 403
    no_reason = await client.post(
        f"{PAGE}/slett", data={"csrf_token": token, "identitet": "teams:aad-per"}
    )
    assert no_reason.status == 400
    assert "Skriv en begrunnelse" in await no_reason.text()
    assert tickets_of(database, "teams:aad-per") == [per]

    deleted = await client.post(
        f"{PAGE}/slett",
        data={"csrf_token": token, "identitet": "teams:aad-per", "begrunnelse": "ba om det"},
        allow_redirects=False,
    )
    assert deleted.status == 303
    assert tickets_of(database, "teams:aad-per") == []
    assert tickets_of(database, "teams:aad-kari") == [other]
    audit = database.run(
        lambda s: [(a.action, a.actor, a.reason) for a in s.query(PersonDataAudit).order_by("id")]
    )
    assert audit == [("exported", "admin", None), ("deleted", "admin", "ba om det")]


async def test_open_tickets_are_deleted_only_when_ticked(client, database):
    open_case = make_ticket(database, requester_id="intranet:per", status="under_arbeid")
    await login(client)
    token = await page_token(client, f"{PAGE}?identitet=intranet:per")
    form = {"csrf_token": token, "identitet": "intranet:per", "begrunnelse": "sluttet"}

    refused = await client.post(f"{PAGE}/slett", data=form)
    assert refused.status == 409
    assert f"Personen har åpne saker: {open_case}." in await refused.text()
    assert tickets_of(database, "intranet:per") == [open_case]

    ticked = await client.post(
        f"{PAGE}/slett", data={**form, "ogsaa_aapne": "1"}, allow_redirects=False
    )
    assert ticked.status == 303
    assert tickets_of(database, "intranet:per") == []

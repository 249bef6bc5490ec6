"""GET /widget/notices: what the widget's banner shows, to anyone, and nothing more."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import notices
from bot.web.app import create_app
from tests.notices.conftest import notice_values


@pytest.fixture
async def client(settings, database) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client


def publish(database, **overrides):
    return database.run(lambda s: notices.create_notice(s, "admin", notice_values(**overrides)))


async def test_the_banner_lists_active_notices_without_staff_details(client, database):
    publish(database, title="Teams er nede")
    publish(database, title="Planlagt", status="planlagt")
    response = await client.get("/widget/notices")
    assert response.status == 200
    body = await response.json()
    assert [n["title"] for n in body["notices"]] == ["Teams er nede"]
    assert set(body["notices"][0]) == {"title", "text", "service", "expected_end"}
    assert body["notices"][0]["service"] == "Teams"


async def test_the_banner_narrows_to_the_pages_municipality(client, database):
    publish(database, title="Rauma", municipalities=["Rauma"])
    molde = await (await client.get("/widget/notices?kommune=Molde")).json()
    rauma = await (await client.get("/widget/notices?kommune=Rauma")).json()
    assert (molde["notices"], [n["title"] for n in rauma["notices"]]) == ([], ["Rauma"])
    unknown = await client.get("/widget/notices?kommune=Oslo")
    assert unknown.status == 400
    assert (await unknown.json())["field"] == "kommune"


async def test_only_the_widgets_origins_may_read_it_cross_origin(client, settings, database):
    allowed = f"http://127.0.0.1:{settings.web_port}"
    ok = await client.get("/widget/notices", headers={"Origin": allowed})
    assert ok.headers["Access-Control-Allow-Origin"] == allowed
    other = await client.get("/widget/notices", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


async def test_the_widget_token_may_carry_the_users_municipality(client):
    from bot.channels import widget_token
    from bot.web.keys import SETTINGS

    app = client.server.app

    auth = {"Authorization": f"Bearer {app[SETTINGS].secret('widget_issuer_key')}"}
    refused = await client.post(
        "/widget/token", json={"user_id": "kari", "municipality": "Oslo"}, headers=auth
    )
    assert refused.status == 400
    assert "municipality must be one of Aukra" in (await refused.json())["error"]
    issued = await client.post(
        "/widget/token", json={"user_id": "kari", "municipality": "Rauma"}, headers=auth
    )
    token = (await issued.json())["token"]
    found = widget_token.identity(app[SETTINGS].secret("widget_key"), token, 3600)
    assert (found["id"], found["municipality"]) == ("kari", "Rauma")

"""The web service's /health (operators' overview) and /health?ready (can this process
serve: database reachable and migrated), as a load balancer or monitor sees them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot import migrate
from bot.db import Database
from bot.settings import Settings, load_settings
from bot.web.app import create_app
from devtools.ports import free_port


def settings_for(tmp_path: Path, db_url: str, rasa_url: str, actions_url: str) -> Settings:
    return load_settings(
        {
            "RAKEL_VAR_DIR": str(tmp_path),
            "RAKEL_DB_URL": db_url,
            "RAKEL_TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
            "RAKEL_RASA_URL": rasa_url,
            "RAKEL_ACTION_SERVER_URL": actions_url,
        }
    )


@pytest.fixture(autouse=True)
def _no_admin(monkeypatch):
    # Without an admin to bootstrap the app starts on an unmigrated database too.
    monkeypatch.delenv("RAKEL_ADMIN_USER", raising=False)


@pytest.fixture
def nothing_listens() -> str:
    return f"http://127.0.0.1:{free_port()}"


async def client_for(settings: Settings) -> TestClient:
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    return client


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'rakel.db'}"


@pytest.fixture
async def migrated_client(tmp_path, sqlite_url, nothing_listens) -> AsyncIterator[TestClient]:
    database = Database(sqlite_url)
    migrate.upgrade(database)
    database.dispose()
    client = await client_for(settings_for(tmp_path, sqlite_url, nothing_listens, nothing_listens))
    yield client
    await client.close()


async def test_ready_when_the_database_is_migrated_even_with_rasa_down(migrated_client):
    response = await migrated_client.get("/health?ready")
    assert response.status == 200
    assert await response.json() == {"status": "ready"}


async def test_not_ready_on_an_unmigrated_database(tmp_path, sqlite_url, nothing_listens):
    client = await client_for(settings_for(tmp_path, sqlite_url, nothing_listens, nothing_listens))
    try:
        response = await client.get("/health?ready")
        assert response.status == 503
        body = await response.json()
        assert body["status"] == "not ready"
        assert body["reason"].startswith("database schema not migrated: at no revision")
        assert "python -m bot.cli migrate" in body["reason"]
        # Migrated meanwhile (the migrate job finished): ready without a restart.
        database = Database(sqlite_url)
        migrate.upgrade(database)
        database.dispose()
        response = await client.get("/health?ready")
        assert response.status == 200
    finally:
        await client.close()


async def test_not_ready_when_the_database_is_unreachable(tmp_path, nothing_listens):
    unreachable = f"postgresql+psycopg2://rakel:pw@127.0.0.1:{free_port()}/rakel"
    client = await client_for(settings_for(tmp_path, unreachable, nothing_listens, nothing_listens))
    try:
        response = await client.get("/health?ready")
        assert response.status == 503
        assert await response.json() == {
            "status": "not ready",
            "reason": "database unreachable (OperationalError)",
        }
    finally:
        await client.close()


async def test_health_names_the_failing_part_but_no_internal_address(tmp_path, sqlite_url):
    """An unauthenticated caller learns what is down, not where it lives."""

    async def broken(_: web.Request) -> web.Response:
        return web.Response(status=500, text="boom")

    app = web.Application()
    app.router.add_get("/health", broken)
    actions = TestServer(app)
    await actions.start_server()
    rasa_port = free_port()
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    actions_url = str(actions.make_url("")).rstrip("/")
    database = Database(sqlite_url)
    migrate.upgrade(database)
    database.dispose()
    client = await client_for(settings_for(tmp_path, sqlite_url, rasa_url, actions_url))
    try:
        response = await client.get("/health")
        assert response.status == 503
        body = await response.json()
        assert body["status"] == "degraded"
        assert body["checks"] == {
            "rasa": {"status": "error", "detail": "unreachable (ClientConnectorError)"},
            "action_server": {"status": "error", "detail": "HTTP 500"},
            "database": {"status": "ok"},
        }
        text = await response.text()
        for secret in ("127.0.0.1", str(rasa_port), str(actions.port), "http"):
            assert secret not in text
    finally:
        await client.close()
        await actions.close()

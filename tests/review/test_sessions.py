"""Staff sessions: logout ends them, login throttling, admin-only account pages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.models import StaffUser
from bot.web.app import create_app
from bot.web.login_throttle import LoginThrottle
from bot.web.staff_accounts import create_staff
from tests.review.test_review_http import login
from tests.support.staff import csrf_from, staff_settings

PROXY = {"RAKEL_TRUSTED_PROXIES": "127.0.0.1"}  # the test client connects from here
CLERK, CLERK_PASSWORD = "kari", "saksbehandler-passord-1"


def add_clerk(database) -> None:
    database.run(lambda s: create_staff(s, CLERK, CLERK_PASSWORD, is_admin=False))


async def login_from(client: TestClient, address: str, password: str, username: str = "admin"):
    """A login through the reverse proxy, for a client at `address`."""
    page = await client.get("/login")
    token = csrf_from(await page.text())
    return await client.post(
        "/login",
        data={"csrf_token": token, "username": username, "password": password, "next": "/"},
        headers={"X-Forwarded-For": address},
        allow_redirects=False,
    )


# --- logout ends the session ----------------------------------------------------


async def test_a_cookie_saved_before_logout_opens_nothing_after_it(settings, database):
    async with TestClient(TestServer(create_app(settings))) as client:
        assert (await login(client)).status == 303
        saved = {c.key: c.value for c in client.session.cookie_jar}
        queue = await client.get("/staff/")
        token = csrf_from(await queue.text())
        assert (await client.get("/api/tickets")).status == 200
        out = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
        assert out.status == 303

        # The copy an eavesdropper kept, replayed by a fresh client.
        async with TestClient(client.server) as thief:
            thief.session.cookie_jar.update_cookies(saved)
            api = await thief.get("/api/tickets")
            assert api.status == 401
            page = await thief.get("/staff/", allow_redirects=False)
            assert page.status == 302 and page.headers["Location"].startswith("/login")


async def test_deactivating_an_account_ends_its_open_sessions(settings, database):
    add_clerk(database)
    app = create_app(settings)
    async with TestClient(TestServer(app)) as admin, TestClient(admin.server) as clerk:
        assert (await login(clerk, CLERK, CLERK_PASSWORD)).status == 303
        assert (await clerk.get("/api/tickets")).status == 200
        assert (await login(admin)).status == 303
        token = csrf_from(await (await admin.get("/staff/accounts")).text())
        clerk_id = database.run(
            lambda s: s.execute(select(StaffUser.id).where(StaffUser.username == CLERK)).scalar()
        )
        changed = await admin.post(
            f"/staff/accounts/{clerk_id}",
            data={"csrf_token": token, "active": "0"},
            allow_redirects=False,
        )
        assert changed.status == 303
        assert (await clerk.get("/api/tickets")).status == 401


# --- admin rights ---------------------------------------------------------------


async def test_only_admins_manage_accounts(settings, database):
    add_clerk(database)
    async with TestClient(TestServer(create_app(settings))) as client:
        assert (await login(client, CLERK, CLERK_PASSWORD)).status == 303
        page = await client.get("/staff/accounts")
        assert page.status == 403
        assert "Bare administratorer" in await page.text()
        token = csrf_from(await (await client.get("/staff/")).text())
        made = await client.post(
            "/staff/accounts",
            data={
                "csrf_token": token,
                "username": "snik",
                "password": "snik-snik-snik-1",
                "is_admin": "1",
            },
        )
        assert made.status == 403
        admin_id = database.run(
            lambda s: s.execute(select(StaffUser.id).where(StaffUser.username == "admin")).scalar()
        )
        off = await client.post(
            f"/staff/accounts/{admin_id}", data={"csrf_token": token, "active": "0"}
        )
        assert off.status == 403
        accounts = database.run(
            lambda s: [(u.username, u.active) for u in s.execute(select(StaffUser)).scalars()]
        )
        assert sorted(accounts) == [("admin", True), (CLERK, True)]
        assert "Brukerkontoer" not in await (await client.get("/staff/")).text()


async def test_an_admin_creates_an_account_that_can_log_in(settings, database):
    async with TestClient(TestServer(create_app(settings))) as client:
        await login(client)
        token = csrf_from(await (await client.get("/staff/accounts")).text())
        short = await client.post(
            "/staff/accounts", data={"csrf_token": token, "username": "ola", "password": "kort"}
        )
        assert short.status == 400
        assert "Passordet må ha minst 12 tegn." in await short.text()
        made = await client.post(
            "/staff/accounts",
            data={"csrf_token": token, "username": "ola", "password": "ola-sitt-passord"},
            allow_redirects=False,
        )
        assert made.status == 303
        client.session.cookie_jar.clear()
        assert (await login(client, "ola", "ola-sitt-passord")).status == 303
        assert (await client.get("/staff/accounts")).status == 403  # not an admin


# --- login throttling -----------------------------------------------------------


async def test_a_guesser_behind_the_proxy_does_not_lock_out_the_real_user(tmp_path, database):
    settings = staff_settings(tmp_path, **PROXY)
    async with TestClient(TestServer(create_app(settings))) as client:
        for _ in range(6):
            response = await login_from(client, "203.0.113.7", "gjetning-gjetning")
            if response.status == 429:
                break
            assert response.status == 401
        blocked = await login_from(client, "203.0.113.7", "gjetning-gjetning")
        assert blocked.status == 429
        assert int(blocked.headers["Retry-After"]) >= 1
        assert "For mange mislykkede innlogginger" in await blocked.text()
        # The real user, at her own desk, with her password: straight in.
        real = await login_from(client, "198.51.100.20", "korrekt-hest-batteri-42")
        assert real.status == 303


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(tmp_path, database):
    settings = staff_settings(tmp_path)  # no trusted proxies
    async with TestClient(TestServer(create_app(settings))) as client:
        statuses = [
            (await login_from(client, f"203.0.113.{i}", "gjetning-gjetning")).status
            for i in range(7)
        ]
        # A new made-up address per try changes nothing: the peer is counted.
        assert statuses[:5] == [401] * 5 and statuses[-1] == 429


async def test_failures_are_shared_between_web_replicas(tmp_path, database):
    settings = staff_settings(tmp_path, **PROXY)
    async with (
        TestClient(TestServer(create_app(settings))) as one,
        TestClient(TestServer(create_app(settings))) as two,
    ):
        for replica in (one, two, one, two, one):
            assert (await login_from(replica, "203.0.113.7", "gjetning-gjetning")).status == 401
        assert (await login_from(two, "203.0.113.7", "gjetning-gjetning")).status == 429


def test_backoff_doubles_after_five_failures_and_caps_at_a_minute(database):
    now = [datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)]
    throttle = LoginThrottle(clock=lambda: now[0])
    waits = []
    for _ in range(12):
        database.run(lambda s: throttle.failed(s, "kari", "203.0.113.7"))
        waits.append(database.run(lambda s: throttle.retry_after(s, "kari", "203.0.113.7")))
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60]
    # Time passes: the wait runs out; the next failure doubles it again (capped).
    now[0] += timedelta(seconds=59)
    assert database.run(lambda s: throttle.retry_after(s, "kari", "203.0.113.7")) == 1
    now[0] += timedelta(seconds=1)
    assert database.run(lambda s: throttle.retry_after(s, "kari", "203.0.113.7")) == 0
    # A clean address is not held back by the account's count.
    assert database.run(lambda s: throttle.retry_after(s, "kari", "198.51.100.20")) == 0
    # After the window nothing counts any more.
    now[0] += timedelta(minutes=15)
    database.run(lambda s: throttle.failed(s, "kari", "203.0.113.7"))
    assert database.run(lambda s: throttle.retry_after(s, "kari", "203.0.113.7")) == 0


@pytest.mark.parametrize("value", ["ja", "2"])
def test_a_malformed_cookie_setting_is_refused_at_start(tmp_path, value):
    from bot.settings import SettingsError

    with pytest.raises(SettingsError, match="RAKEL_COOKIE_SECURE must be 1 or 0"):
        staff_settings(tmp_path, RAKEL_COOKIE_SECURE=value)

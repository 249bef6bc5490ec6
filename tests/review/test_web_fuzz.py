"""Fuzzed requests to every endpoint of the web service: never a 500, nothing lost.

Each request is made the way a logged-in admin's browser or an intranet backend would
(valid session, CSRF token and issuer key), so the fuzzed values reach the handlers'
own parsing instead of stopping at the login or CSRF check.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator

import pytest
import requests
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.models import Ticket
from bot.web.app import create_app
from devtools.ports import free_port
from tests.support.staff import ADMIN, ADMIN_PASSWORD, make_ticket, migrated, staff_settings

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TEXT = st.text(max_size=60)
FORM = st.dictionaries(
    st.sampled_from(
        [
            "status",
            "priority",
            "category",
            "assignee",
            "note",
            "intent",
            "action",
            "username",
            "password",
            "is_admin",
            "active",
            "identitet",
            "begrunnelse",
            "tving",
            "next",
        ]
    ),
    TEXT,
    max_size=6,
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=10,
)
PATHS_GET = st.sampled_from(
    [
        "/staff/",
        "/staff/misses",
        "/staff/stats",
        "/staff/content",
        "/staff/content/draft",
        "/staff/content/articles/teams_tips",
        "/staff/accounts",
        "/staff/personvern",
        "/staff/tickets/RAK-1001",
        "/api/tickets",
        "/api/tickets/RAK-1001",
    ]
)
PATHS_POST = st.sampled_from(
    [
        "/staff/tickets/RAK-1001",
        "/staff/misses/1",
        "/staff/content/draft",
        "/staff/content/articles/teams_tips",
        "/staff/tickets/RAK-1001/meldinger/0",
        "/staff/accounts",
        "/staff/accounts/1",
        "/staff/personvern/eksport",
        "/staff/personvern/slett",
    ]
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


class Served:
    """The real web app on a free port, in its own thread and event loop."""

    def __init__(self, app: web.Application) -> None:
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(app)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)
        return f"http://127.0.0.1:{self.port}"

    async def _start(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Iterator[tuple[str, object]]:
    var_dir = tmp_path_factory.mktemp("web-fuzz")
    config = staff_settings(var_dir)
    database = migrated(config)
    make_ticket(database, requester_id="teams:aad-per", status="ny")
    try:
        with Served(create_app(config)) as url:
            yield url, database, config
    finally:
        database.dispose()


@pytest.fixture(scope="module")
def admin(service) -> tuple[str, requests.Session, str]:
    url, _, _ = service
    session = requests.Session()
    token = CSRF.search(session.get(f"{url}/login", timeout=10).text).group(1)
    response = session.post(
        f"{url}/login",
        data={
            "csrf_token": token,
            "username": ADMIN,
            "password": ADMIN_PASSWORD,
            "next": "/staff/",
        },
        timeout=10,
    )
    assert response.ok
    page = session.get(f"{url}/staff/", timeout=10)
    assert page.status_code == 200
    return url, session, CSRF.search(page.text).group(1)


def tickets(database) -> list[str]:
    return database.run(lambda s: sorted(t.public_id for t in s.query(Ticket)))


@FUZZ
@given(path=PATHS_GET, query=st.dictionaries(TEXT, TEXT, max_size=4))
def test_fuzzed_page_and_api_reads_never_fail(admin, path, query):
    url, session, _ = admin
    response = session.get(f"{url}{path}", params=query, allow_redirects=False, timeout=30)
    assert response.status_code < 500, response.text[:300]


@FUZZ
@given(path=PATHS_POST, form=FORM)
def test_fuzzed_staff_forms_never_fail_and_lose_no_ticket(admin, service, path, form):
    url, session, token = admin
    _, database, _ = service
    before = tickets(database)
    response = session.post(
        f"{url}{path}", data={**form, "csrf_token": token}, allow_redirects=False, timeout=30
    )
    assert response.status_code < 500, response.text[:300]
    assert tickets(database) == before


@FUZZ
@given(body=JSON, note=st.booleans())
def test_fuzzed_api_changes_never_fail_and_lose_no_ticket(admin, service, body, note):
    url, session, token = admin
    _, database, _ = service
    before = tickets(database)
    path = "/api/tickets/RAK-1001" + ("/notes" if note else "")
    response = session.request(
        "POST" if note else "PATCH",
        f"{url}{path}",
        json=body,
        headers={"X-CSRF-Token": token},
        timeout=30,
    )
    assert response.status_code < 500, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/json")
    assert tickets(database) == before


@FUZZ
@given(body=JSON, form=st.dictionaries(TEXT, TEXT, max_size=3), as_json=st.booleans())
def test_fuzzed_login_and_widget_token_requests_never_fail(service, body, form, as_json):
    url, _, config = service
    key = config.secret("widget_issuer_key")
    response = requests.post(
        f"{url}/widget/token",
        headers={"Authorization": f"Bearer {key}"},
        **({"json": body} if as_json else {"data": form}),
        timeout=30,
    )
    assert response.status_code < 500, response.text[:300]
    # A stranger's login form: refused or throttled, never an error page.
    response = requests.post(f"{url}/login", data=form, allow_redirects=False, timeout=30)
    assert response.status_code < 500, response.text[:300]

"""Widget security pieces without a server: signed session ids, identity tokens, web routes."""

from __future__ import annotations

import time

import hypothesis
import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import strategies as st

from bot.channels import widget_token
from bot.channels.socketio import new_session, sign_session, verified_session
from bot.settings import (
    WIDGET_TOKEN_MAX_LIFETIME_SECONDS,
    SettingsError,
    load_settings,
    widget_origins,
)
from bot.web.app import create_app
from bot.web.widget import MAX_USER_ID_CHARS

KEY = "a-test-widget-key-of-at-least-32-bytes"
OTHER = "another-widget-key-of-at-least-32-bytes"
MAX = WIDGET_TOKEN_MAX_LIFETIME_SECONDS


def test_a_signed_session_verifies_and_tampering_does_not():
    session = new_session()
    signed = sign_session("key", session, "")
    assert verified_session("key", signed, "") == session
    _, mac = signed.split(".")
    for forged in (
        session,
        f"{new_session()}.{mac}",
        f"{session}.{'0' * 32}",
        sign_session("k2", session, ""),
        sign_session("key", "abc123", "")[:-1],
        None,
        42,
        "a.b.c",
    ):
        assert verified_session("key", forged, "") is None


def test_a_session_signed_for_one_user_is_nobody_elses():
    session = new_session()
    karis = sign_session("key", session, "intranet:kari")
    assert verified_session("key", karis, "intranet:kari") == session
    assert verified_session("key", karis, "") is None  # anonymous
    assert verified_session("key", karis, "intranet:ola") is None
    assert verified_session("key", sign_session("key", session, ""), "intranet:kari") is None


def test_identity_token_round_trip_and_rejections():
    token = widget_token.issue(KEY, "molde\\kari", "Kari Nordmann")
    assert widget_token.identity(KEY, token, MAX) == {
        "id": "molde\\kari",
        "name": "Kari Nordmann",
        "source": "intranet",
    }
    expired = jwt.encode(
        {"iss": "rakel-web", "aud": "rakel-widget", "sub": "kari", "exp": int(time.time()) - 60},
        KEY,
        algorithm="HS256",
    )
    unsigned = jwt.encode(
        {"iss": "rakel-web", "aud": "rakel-widget", "sub": "kari", "exp": int(time.time()) + 60},
        None,
        algorithm="none",
    )
    wrong_audience = jwt.encode(
        {"iss": "rakel-web", "aud": "other", "sub": "kari", "exp": int(time.time()) + 60},
        KEY,
        algorithm="HS256",
    )
    for bad in (
        widget_token.issue(OTHER, "kari", None),
        expired,
        unsigned,
        wrong_audience,
        "garbage",
    ):
        with pytest.raises(widget_token.InvalidWidgetToken):
            widget_token.identity(KEY, bad, MAX)


def test_issued_token_lifetime_is_capped():
    token = widget_token.issue(KEY, "kari", None, ttl=10**9)
    claims = jwt.decode(token, KEY, algorithms=["HS256"], audience="rakel-widget")
    assert claims["exp"] - claims["iat"] == MAX


def signed_claims(**claims) -> str:
    now = int(time.time())
    base = {"iss": "rakel-web", "aud": "rakel-widget", "sub": "kari", "iat": now - 60}
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, KEY, algorithm="HS256")


def test_a_token_living_longer_than_the_maximum_is_refused():
    now = int(time.time())
    ten_years = signed_claims(iat=now - 60, exp=now + 10 * 365 * 86400)
    with pytest.raises(widget_token.InvalidWidgetToken, match="lifetime"):
        widget_token.identity(KEY, ten_years, MAX)
    # Without iat the lifetime is unknown; an iat in the future would hide it.
    for bad in (
        signed_claims(iat=None, exp=now + 600),
        signed_claims(iat=now + 10 * 365 * 86400 - 600, exp=now + 10 * 365 * 86400),
    ):
        with pytest.raises(widget_token.InvalidWidgetToken):
            widget_token.identity(KEY, bad, MAX)
    # At the maximum it still counts; the operator's own maximum is what counts.
    at_max = signed_claims(iat=now - 60, exp=now - 60 + MAX)
    assert widget_token.identity(KEY, at_max, MAX)["id"] == "kari"
    with pytest.raises(widget_token.InvalidWidgetToken, match="lifetime"):
        widget_token.identity(KEY, at_max, 3600)


def test_the_maximum_lifetime_is_a_setting():
    assert load_settings({}).widget_token_max_lifetime_seconds == 8 * 3600
    env = {"RAKEL_WIDGET_TOKEN_MAX_LIFETIME_SECONDS": "3600"}
    assert load_settings(env).widget_token_max_lifetime_seconds == 3600
    for bad in ("0", "-5", "soon"):
        with pytest.raises(SettingsError, match="RAKEL_WIDGET_TOKEN_MAX_LIFETIME_SECONDS"):
            load_settings({"RAKEL_WIDGET_TOKEN_MAX_LIFETIME_SECONDS": bad})


def test_allowed_origins_default_to_the_web_service():
    settings = load_settings({"RAKEL_WEB_PORT": "8080"})
    assert widget_origins(settings, {}) == ["http://127.0.0.1:8080", "http://localhost:8080"]
    configured = {"RAKEL_WIDGET_ORIGINS": "https://intranett.molde.kommune.no/, https://x.no"}
    assert widget_origins(settings, configured) == [
        "https://intranett.molde.kommune.no",
        "https://x.no",
    ]


@pytest.fixture
async def client(tmp_path):
    settings = load_settings(
        {"RAKEL_VAR_DIR": str(tmp_path), "RAKEL_RASA_URL": "http://rasa.test:5005"}
    )
    async with TestClient(TestServer(create_app(settings))) as client:
        client.settings = settings
        yield client


async def test_widget_files_and_demo_page_are_served(client):
    demo = await client.get("/widget/demo")
    html = await demo.text()
    assert demo.status == 200 and 'data-rasa-url="http://rasa.test:5005"' in html
    for name, kind in (
        ("rakel-widget.js", "javascript"),
        ("rakel-widget.css", "css"),
        ("socket.io.min.js", "javascript"),
    ):
        response = await client.get(f"/widget/{name}")
        assert response.status == 200 and kind in response.content_type, name
    assert (await client.get("/widget/package.json")).status == 404
    assert (await client.get("/widget/..%2Fbot%2Fsettings.py")).status == 404


async def test_token_endpoint(client):
    key = client.settings.secret("widget_issuer_key")
    auth = {"Authorization": f"Bearer {key}"}
    assert (await client.post("/widget/token", json={"user_id": "kari"})).status == 401
    for body in (
        {},
        {"user_id": ""},
        {"user_id": 5},
        {"user_id": "k", "name": 3},
        {"user_id": "x" * 300},
        [],
    ):
        response = await client.post("/widget/token", json=body, headers=auth)
        assert response.status == 400, body
    # The longest user id still fits as conversation id `intranet:<user id>`.
    for length, status in ((MAX_USER_ID_CHARS, 200), (MAX_USER_ID_CHARS + 1, 400)):
        response = await client.post("/widget/token", json={"user_id": "k" * length}, headers=auth)
        assert response.status == status, length
    assert len(f"intranet:{'k' * MAX_USER_ID_CHARS}") == 255
    response = await client.post(
        "/widget/token", json={"user_id": "kari", "name": "Kari"}, headers=auth
    )
    token = (await response.json())["token"]
    key = client.settings.secret("widget_key")
    assert widget_token.identity(key, token, MAX)["id"] == "kari"


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(
    presented=st.text(max_size=80) | st.none() | st.integers(), owner=st.text(max_size=20)
)
def test_no_made_up_session_id_verifies(presented, owner):
    assert verified_session(KEY, presented, owner) is None


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(token=st.text(max_size=200))
def test_any_made_up_token_is_refused_with_the_widget_error(token):
    with pytest.raises(widget_token.InvalidWidgetToken):
        widget_token.identity(KEY, token, MAX)

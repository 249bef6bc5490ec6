"""Teams authentication and proactive messages against local fakes of Microsoft's endpoints,
with real RSA keys and signed tokens (no Rasa server needed)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import aiohttp
import hypothesis
import jwt
import pytest
from hypothesis import strategies as st

from bot import migrate
from bot.channels.teams_auth import (
    FETCH_RETRY_SECONDS,
    UNKNOWN_KID_REFETCH_SECONDS,
    AppTokenProvider,
    AuthError,
    InboundAuthenticator,
    activity_tenants,
    check_activity,
)
from bot.channels.teams_references import (
    NoReferenceError,
    find_reference,
    message_user,
    reference_from_activity,
    save_reference,
)
from bot.db import Database
from bot.settings import load_teams_settings
from devtools.ports import free_port
from tests.support.fake_microsoft import APP_ID, TENANT_ID, FakeMicrosoft, new_key


@pytest.fixture(scope="module")
def microsoft() -> Iterator[FakeMicrosoft]:
    """A module-local fake (overrides conftest's, which needs the Rakel processes)."""
    fake = FakeMicrosoft(port=free_port()).start()
    yield fake
    fake.stop()


@pytest.fixture
def settings(microsoft):
    return load_teams_settings(microsoft.env())


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def activity(microsoft: FakeMicrosoft, **extra) -> dict:
    base = {
        "type": "message",
        "channelId": "msteams",
        "serviceUrl": microsoft.service_url,
        "id": "a1",
        "text": "hei",
        "from": {"id": "29:user-1", "name": "Kari Nordmann", "aadObjectId": "aad-kari"},
        "recipient": {"id": f"28:{APP_ID}", "name": "Rakel"},
        "conversation": {"id": "a:conv-1", "tenantId": TENANT_ID},
        "channelData": {"tenant": {"id": TENANT_ID}},
    }
    base.update(extra)
    return base


def test_settings_default_to_the_tenant_authority_and_report_what_is_missing():
    teams = load_teams_settings({"RAKEL_TEAMS_APP_ID": "app", "RAKEL_TEAMS_TENANT_ID": "t-1"})
    assert teams.token_url == "https://login.microsoftonline.com/t-1/oauth2/v2.0/token"
    assert teams.openid_config_url.startswith("https://login.botframework.com/")
    assert teams.missing == ["RAKEL_TEAMS_APP_PASSWORD"] and not teams.configured
    assert "fake" not in repr(load_teams_settings({"RAKEL_TEAMS_APP_PASSWORD": "fake"}))


async def test_a_token_signed_by_the_connector_key_is_accepted(microsoft, settings, http):
    claims = await InboundAuthenticator(settings).validate(
        f"Bearer {microsoft.sign()}", activity(microsoft), http
    )
    assert claims["aud"] == APP_ID


def _none_token(microsoft: FakeMicrosoft) -> str:
    return jwt.encode(microsoft.claims(), None, algorithm="none", headers={"kid": "fake-key-1"})


def _hs256_with_public_key(microsoft: FakeMicrosoft) -> str:
    # The classic key-confusion attack: HMAC keyed with the (public) JWKS key material.
    import base64
    import json

    header = {"alg": "HS256", "typ": "JWT", "kid": "fake-key-1"}

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    import hashlib
    import hmac

    signing_input = f"{part(header)}.{part(microsoft.claims())}"
    from cryptography.hazmat.primitives import serialization

    pem = microsoft.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


@pytest.mark.parametrize(
    "make_header, reason",
    [
        (lambda m: None, "no Bearer"),
        (lambda m: "Basic abc", "no Bearer"),
        (lambda m: "Bearer not-a-jwt", "malformed"),
        (lambda m: f"Bearer {m.sign(key=new_key())}", "Signature verification failed"),
        (lambda m: f"Bearer {m.sign(iss='https://evil.example')}", "(?i)issuer"),
        (lambda m: f"Bearer {m.sign(aud='someone-else')}", "(?i)audience"),
        (lambda m: f"Bearer {m.sign(exp=int(time.time()) - 3600)}", "(?i)expired"),
        (lambda m: f"Bearer {m.sign(exp=None)}", "exp"),
        (lambda m: f"Bearer {m.sign(kid='other-kid')}", "unknown signing key"),
        (lambda m: f"Bearer {_none_token(m)}", "algorithm 'none'"),
        (lambda m: f"Bearer {_hs256_with_public_key(m)}", "algorithm 'HS256'"),
        (lambda m: f"Bearer {m.sign(serviceurl='https://evil.example/')}", "serviceUrl"),
        (lambda m: f"Bearer {m.sign(serviceurl=None)}", "no serviceurl claim"),
        (lambda m: f"Bearer {m.sign(serviceurl=42)}", "no serviceurl claim"),
    ],
)
async def test_forged_or_wrong_tokens_are_rejected(microsoft, settings, http, make_header, reason):
    with pytest.raises(AuthError, match=reason):
        await InboundAuthenticator(settings).validate(
            make_header(microsoft), activity(microsoft), http
        )


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"channelId": "slack"}, "channelId 'slack'"),
        ({"channelId": None}, "channelId None"),
        ({"channelData": {"tenant": {"id": "other"}}}, "tenant"),
        ({"conversation": {"id": "c", "tenantId": "other"}}, "tenant"),
        ({"channelData": None, "conversation": {"id": "c"}}, "no tenant"),
        ({"serviceUrl": None}, "serviceUrl"),
        ({"serviceUrl": "https://evil.example/"}, "serviceUrl"),
    ],
)
async def test_activities_not_from_teams_in_our_tenant_are_rejected(
    microsoft, settings, http, fields, reason
):
    with pytest.raises(AuthError, match=reason):
        await InboundAuthenticator(settings).validate(
            f"Bearer {microsoft.sign()}", activity(microsoft, **fields), http
        )


async def test_key_not_endorsed_for_teams_is_rejected(http):
    fake = FakeMicrosoft(port=free_port(), endorsements=("emulator",)).start()
    try:
        with pytest.raises(AuthError, match="endorsed"):
            await InboundAuthenticator(load_teams_settings(fake.env())).validate(
                f"Bearer {fake.sign()}", activity(fake), http
            )
    finally:
        fake.stop()


async def test_a_key_set_publishing_a_private_key_rejects_the_token_cleanly(http):
    # PyJWT cannot verify with a private key object: without the check this was an
    # AttributeError (a crash of the webhook) instead of a refused token.
    fake = FakeMicrosoft(port=free_port(), publish_private_key=True).start()
    try:
        with pytest.raises(AuthError, match="not a public key"):
            await InboundAuthenticator(load_teams_settings(fake.env())).validate(
                f"Bearer {fake.sign()}", activity(fake), http
            )
    finally:
        fake.stop()


async def test_key_fetches_are_rate_limited_even_while_the_cache_is_empty(http):
    fake = FakeMicrosoft(port=free_port(), keys_down=True).start()
    now = [1000.0]
    authenticator = InboundAuthenticator(load_teams_settings(fake.env()), clock=lambda: now[0])

    async def refused(count: int, token: str) -> None:
        async def one() -> None:
            with pytest.raises(AuthError, match="unknown signing key"):
                await authenticator.validate(f"Bearer {token}", activity(fake), http)

        await asyncio.gather(*(one() for _ in range(count)))

    try:
        # Microsoft's key endpoint is down: the cache stays empty, but 30 requests with
        # good and made-up key ids cost one fetch, not thirty.
        await refused(10, fake.sign())
        await refused(20, fake.sign(kid="made-up"))
        assert fake.key_fetches == 1
        now[0] += FETCH_RETRY_SECONDS - 1
        await refused(5, fake.sign(kid="made-up-2"))
        assert fake.key_fetches == 1

        # Once the interval has passed, the next request fetches again and gets in.
        fake.keys_down = False
        now[0] += 2
        await authenticator.validate(f"Bearer {fake.sign()}", activity(fake), http)
        assert fake.key_fetches == 2
        # With keys cached, unknown key ids refetch only after their own interval.
        await refused(10, fake.sign(kid="made-up-3"))
        now[0] += UNKNOWN_KID_REFETCH_SECONDS + 1
        await refused(10, fake.sign(kid="made-up-4"))
        assert fake.key_fetches == 3
    finally:
        fake.stop()


async def test_app_token_comes_from_the_tenant_endpoint_and_is_cached(microsoft, settings, http):
    before = len(microsoft.token_requests)
    tokens = AppTokenProvider(settings)
    first = await tokens.token(http)
    assert await tokens.token(http) == first
    requests = microsoft.token_requests[before:]
    assert len(requests) == 1
    assert requests[0]["scope"] == "https://api.botframework.com/.default"
    assert requests[0]["grant_type"] == "client_credentials"
    assert first in microsoft.issued_tokens


async def test_wrong_app_password_is_a_clear_error(microsoft, http):
    env = microsoft.env() | {"RAKEL_TEAMS_APP_PASSWORD": "wrong"}
    with pytest.raises(AuthError, match="401"):
        await AppTokenProvider(load_teams_settings(env)).token(http)


@pytest.fixture
def database(tmp_path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'rakel.db'}")
    migrate.upgrade(db)
    yield db
    db.dispose()


async def test_rakel_can_message_a_user_first(microsoft, settings, http, database):
    first = activity(microsoft)
    database.run(lambda s: save_reference(s, reference_from_activity(first)))
    # A later activity from another conversation updates the one row.
    moved = activity(microsoft, conversation={"id": "a:conv-2"})
    database.run(lambda s: save_reference(s, reference_from_activity(moved)))

    # By the requester id a ticket stores (bot/identity.py).
    activity_id = await message_user(
        database, settings, "teams:aad-kari", "Saken din **RAK-1042** er løst.", http=http
    )

    [sent] = microsoft.wait_replies("a:conv-2")
    assert sent["activity"]["text"] == "Saken din **RAK-1042** er løst."
    assert sent["activity"]["recipient"] == {"id": "29:user-1"}
    assert sent["authorization"].removeprefix("Bearer ") in microsoft.issued_tokens
    assert activity_id and activity_id.startswith("activity-")
    assert microsoft.replies("a:conv-1") == []


async def test_messaging_an_unknown_user_says_so(settings, http, database):
    with pytest.raises(NoReferenceError):
        await message_user(database, settings, "teams:aad-nobody", "Hei", http=http)


async def test_a_teams_reference_is_found_only_by_its_teams_ids(microsoft, database):
    database.run(lambda s: save_reference(s, reference_from_activity(activity(microsoft))))
    for user in ("teams:29:user-1", "teams:aad-kari"):
        assert database.run(lambda s, user=user: find_reference(s, user)) is not None
    # Raw ids, or the same ids in another namespace, name nobody in Teams.
    for user in ("29:user-1", "aad-kari", "anon:rest:aad-kari", "intranet:aad-kari"):
        assert database.run(lambda s, user=user: find_reference(s, user)) is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
TENANTS = st.sampled_from([TENANT_ID, TENANT_ID.upper(), "other-tenant", ""]) | JSON
ACTIVITIES = st.fixed_dictionaries(
    {},
    optional={
        "channelId": st.sampled_from(["msteams", "emulator", "webchat"]) | JSON,
        "channelData": JSON
        | st.fixed_dictionaries({"tenant": st.fixed_dictionaries({"id": TENANTS})}),
        "conversation": JSON | st.fixed_dictionaries({"tenantId": TENANTS}),
    },
)


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(body=ACTIVITIES)
@hypothesis.example(body={"channelId": "msteams", "channelData": {"tenant": {"id": TENANT_ID}}})
@hypothesis.example(body={"channelId": "msteams", "conversation": {"tenantId": TENANT_ID.upper()}})
def test_any_activity_shape_is_accepted_only_from_teams_in_our_tenant(body):
    # The two examples are accepted, so the assertions below run on every test run.
    teams = load_teams_settings({"RAKEL_TEAMS_TENANT_ID": TENANT_ID})
    try:
        check_activity(teams, body)
    except AuthError:
        return  # refused with a reason for the log, never another exception
    assert body["channelId"] == "msteams"
    assert activity_tenants(body) and {t.lower() for t in activity_tenants(body)} == {TENANT_ID}

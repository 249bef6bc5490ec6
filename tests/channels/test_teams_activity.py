"""How the Teams channel reads an activity, and which activities its webhook accepts."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage

from bot import migrate
from bot.channels.entry_guard import EntryGuardMixin
from bot.channels.teams import TeamsInput
from bot.db import Database
from bot.settings import load_teams_settings
from devtools.ports import free_port
from tests.support.fake_microsoft import APP_ID, TENANT_ID, FakeMicrosoft
from tests.support.sanic_server import serve


def test_the_channel_masks_first_and_loads_without_configuration(caplog):
    assert TeamsInput.__mro__[1] is EntryGuardMixin
    channel = TeamsInput(load_teams_settings({}))
    assert not channel.settings.configured
    assert "RAKEL_TEAMS_APP_ID" in caplog.text and "503" in caplog.text


def test_mentions_are_stripped_and_card_submits_become_payloads():
    assert (
        TeamsInput.message_text({"text": "<at>Rakel</at> hvordan bytter jeg PC?"})
        == "hvordan bytter jeg PC?"
    )
    assert TeamsInput.message_text({"value": {"payload": "/deny"}}) == "/deny"
    assert TeamsInput.message_text({"value": {"payload": 5}}) == ""
    assert TeamsInput.message_text({"text": "", "value": "x"}) == ""


def test_identity_and_teams_details_come_from_the_activity():
    metadata = TeamsInput.metadata(
        {
            "from": {"id": "29:x", "name": "Kari", "aadObjectId": "aad-1"},
            "locale": "nb-NO",
            "channelData": {"tenant": {"id": "t-1"}},
            "conversation": {"id": "c"},
        }
    )
    assert metadata == {
        "teams": {"name": "Kari", "aadObjectId": "aad-1", "tenantId": "t-1", "locale": "nb-NO"},
        "rakel_identity": {"id": "aad-1", "name": "Kari", "source": "teams"},
    }
    # No Entra ID object id (e.g. a guest in the emulator): no identity.
    assert "rakel_identity" not in TeamsInput.metadata({"from": {"id": "29:x"}})


# --- the webhook, served by Sanic as in Rasa, against the fake Microsoft ----------


@pytest.fixture(scope="module")
def microsoft() -> Iterator[FakeMicrosoft]:
    """The real Microsoft side: keys, token endpoint and the Bot Connector (serviceUrl)."""
    fake = FakeMicrosoft(port=free_port()).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def attacker() -> Iterator[FakeMicrosoft]:
    """Someone else's server, posing as a Bot Connector: it records what reaches it."""
    fake = FakeMicrosoft(port=free_port()).start()
    yield fake
    fake.stop()


class Webhook:
    """Rakel's Teams webhook in a Sanic server; every message is answered with "svar"."""

    def __init__(self, channel: TeamsInput) -> None:
        self.channel = channel
        self.url = ""
        self.seen: list[UserMessage] = []

    async def on_new_message(self, message: UserMessage) -> None:
        self.seen.append(message)
        await message.output_channel.send_text_message(message.sender_id, "svar")

    async def post(self, activity: dict, token: str | None) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with aiohttp.ClientSession() as http:
            async with http.post(self.url, json=activity, headers=headers) as resp:
                return resp.status


@asynccontextmanager
async def served(env: dict[str, str], tmp_path) -> AsyncIterator[Webhook]:
    database = Database(f"sqlite:///{tmp_path / 'rakel.db'}")
    migrate.upgrade(database)
    channel = TeamsInput(load_teams_settings(env))
    channel._database = database  # conversation references go to this test's database
    hook = Webhook(channel)
    try:
        async with serve(channel.blueprint(hook.on_new_message), "/webhooks/teams") as url:
            hook.url = f"{url}/webhooks/teams/webhook"
            yield hook
    finally:
        await channel.http.close()
        database.dispose()


@pytest.fixture
async def webhook(microsoft, tmp_path) -> AsyncIterator[Webhook]:
    async with served(microsoft.env(), tmp_path) as hook:
        yield hook


def good_activity(microsoft: FakeMicrosoft, **fields) -> dict:
    conversation = f"a:conv-{uuid.uuid4().hex[:10]}"
    activity = {
        "type": "message",
        "id": f"msg-{uuid.uuid4().hex[:8]}",
        "channelId": "msteams",
        "serviceUrl": microsoft.service_url,
        "text": "hei",
        "from": {"id": "29:user-1", "name": "Kari Nordmann", "aadObjectId": "aad-kari"},
        "recipient": {"id": f"28:{APP_ID}", "name": "Rakel"},
        "conversation": {"id": conversation, "tenantId": TENANT_ID},
        "channelData": {"tenant": {"id": TENANT_ID}},
    }
    activity.update(fields)
    return activity


def outbound(*servers: FakeMicrosoft) -> int:
    """Calls Rakel made to these servers (app token requests and replies)."""
    return sum(len(server.activities) + len(server.token_requests) for server in servers)


async def test_a_good_activity_is_answered_through_its_service_url(microsoft, webhook):
    activity = good_activity(microsoft)
    assert await webhook.post(activity, microsoft.sign()) == 200
    [reply] = microsoft.replies(activity["conversation"]["id"])
    assert reply["activity"]["text"] == "svar"
    assert reply["authorization"].removeprefix("Bearer ") in microsoft.issued_tokens
    assert webhook.seen[0].metadata["rakel_identity"]["id"] == "aad-kari"


async def test_a_forged_service_url_gets_401_and_rakel_sends_nothing_there(
    microsoft, attacker, webhook
):
    forged = good_activity(microsoft, serviceUrl=attacker.service_url)
    before = outbound(microsoft, attacker)
    # A genuine token without the serviceurl claim (as any token could be cut down to)...
    assert await webhook.post(forged, microsoft.sign(serviceurl=None)) == 401
    # ...and one naming Microsoft's serviceUrl while the body names another.
    assert await webhook.post(forged, microsoft.sign()) == 401
    assert webhook.seen == []
    assert attacker.activities == [] and outbound(microsoft, attacker) == before


async def test_a_token_without_the_service_url_claim_gets_401(microsoft, webhook):
    assert await webhook.post(good_activity(microsoft), microsoft.sign(serviceurl=None)) == 401
    assert webhook.seen == []


@pytest.mark.parametrize(
    "fields",
    [
        {"channelData": {"tenant": {"id": "other-tenant"}}},
        {"conversation": {"id": "a:conv-x", "tenantId": "other-tenant"}},
        {"channelData": {}, "conversation": {"id": "a:conv-x"}},  # no tenant at all
    ],
    ids=["channel-data", "conversation", "none"],
)
async def test_an_activity_from_another_tenant_gets_401(microsoft, webhook, fields):
    before = outbound(microsoft)
    assert await webhook.post(good_activity(microsoft, **fields), microsoft.sign()) == 401
    assert webhook.seen == [] and outbound(microsoft) == before


async def test_an_activity_from_another_channel_gets_401(microsoft, webhook):
    # The fake's key is endorsed for the emulator too, as Microsoft's are for several
    # channels: the endorsement alone would let it in.
    activity = good_activity(microsoft, channelId="emulator")
    assert await webhook.post(activity, microsoft.sign()) == 401
    assert webhook.seen == []


async def test_the_tenant_id_compares_without_case(microsoft, webhook):
    upper = TENANT_ID.upper()
    activity = good_activity(
        microsoft,
        channelData={"tenant": {"id": upper}},
        conversation={"id": f"a:conv-{uuid.uuid4().hex[:8]}", "tenantId": upper},
    )
    assert await webhook.post(activity, microsoft.sign()) == 200


async def test_without_a_tenant_setting_the_channel_refuses_with_an_operator_error(
    microsoft, tmp_path, caplog
):
    env = {k: v for k, v in microsoft.env().items() if k != "RAKEL_TEAMS_TENANT_ID"}
    before = outbound(microsoft)
    with caplog.at_level(logging.WARNING, logger="bot.channels.teams"):
        async with served(env, tmp_path) as hook:
            assert await hook.post(good_activity(microsoft), microsoft.sign()) == 503
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "RAKEL_TEAMS_TENANT_ID" in error.getMessage()
    assert hook.seen == [] and outbound(microsoft) == before

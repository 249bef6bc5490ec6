"""The REST channel over real HTTP: who may send, and which conversation it reaches.

A real Sanic server with the channel's blueprint, as Rasa mounts it; a recorder stands
where Rasa's processor would (the full Rasa path is in tests/test_handoff_e2e.py).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.channels.rest import MAX_SENDER_CHARS, MaskingRestInput, refusal
from bot.settings import RestSettings, SettingsError, load_rest_settings
from devtools.ports import free_port

TOKEN = "t" * 40
# A bind address as a setting under test: nothing here listens on it.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104


class Server:
    def __init__(self, url: str, seen: list[UserMessage]) -> None:
        self.url = url
        self.seen = seen

    async def post(self, body: dict, headers: dict | None = None) -> tuple[int, object]:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{self.url}/webhook", json=body, headers=headers) as resp:
                return resp.status, await resp.json(content_type=None)


@pytest.fixture
async def serve() -> AsyncIterator:
    servers = []

    async def start(settings: RestSettings) -> Server:
        seen: list[UserMessage] = []

        async def processor(message: UserMessage) -> None:
            seen.append(message)
            await message.output_channel.send_text_message(message.sender_id, "svar")

        Sanic.test_mode = True
        app = Sanic(f"rest-{uuid.uuid4().hex[:8]}")
        channel = MaskingRestInput(settings)
        app.blueprint(channel.blueprint(processor), url_prefix=f"/webhooks/{channel.url_prefix()}")
        port = free_port()
        server = await app.create_server(
            host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
        )
        await server.startup()
        servers.append(server)
        return Server(f"http://127.0.0.1:{port}/webhooks/rest", seen)

    yield start
    for server in servers:
        await server.close()


async def test_a_rest_sender_lands_in_the_anonymous_namespace(serve):
    server = await serve(RestSettings())
    # A colleague's Teams or intranet id as sender: still an anonymous REST conversation.
    for sender in ("aad-1234", "teams:29:1abc", "intranet:molde\\kari"):
        status, replies = await server.post(
            {
                "sender": sender,
                "message": "hei",
                "metadata": {"rakel_identity": {"id": "aad-1234", "source": "teams"}},
            }
        )
        assert status == 200
        assert replies == [{"recipient_id": f"anon:rest:{sender}", "text": "svar"}]
    assert [m.sender_id for m in server.seen] == [
        "anon:rest:aad-1234",
        "anon:rest:teams:29:1abc",
        "anon:rest:intranet:molde\\kari",
    ]
    assert all("rakel_identity" not in (m.metadata or {}) for m in server.seen)


async def test_the_longest_sender_fits_rasas_sender_column(serve):
    server = await serve(RestSettings())
    status, _ = await server.post({"sender": "x" * MAX_SENDER_CHARS, "message": "hei"})
    assert status == 200 and len(server.seen[0].sender_id) == 255
    status, body = await server.post({"sender": "x" * (MAX_SENDER_CHARS + 1), "message": "hei"})
    assert status == 400 and "'sender'" in str(body)


async def test_on_loopback_without_a_token_rest_is_open(serve):
    server = await serve(load_rest_settings({"RAKEL_RASA_HOST": "127.0.0.1"}))
    status, _ = await server.post({"sender": "me", "message": "hei"})
    assert status == 200 and len(server.seen) == 1


@pytest.mark.parametrize(
    "env",
    [
        {"RAKEL_RASA_HOST": ALL_INTERFACES, "RAKEL_REST_TOKEN": TOKEN},
        {"RAKEL_RASA_HOST": "10.0.0.5", "RAKEL_REST_TOKEN": TOKEN},
        # The scaled profile binds each replica to loopback behind nginx, yet needs it.
        {"RAKEL_RASA_HOST": "127.0.0.1", "RAKEL_PROFILE": "scaled", "RAKEL_REST_TOKEN": TOKEN},
        # A token set on loopback is enforced too: the operator asked for it.
        {"RAKEL_RASA_HOST": "127.0.0.1", "RAKEL_REST_TOKEN": TOKEN},
    ],
)
async def test_off_loopback_messages_need_the_token(serve, env):
    server = await serve(load_rest_settings(env))
    body = {"sender": "me", "message": "hei"}
    for headers in (
        None,
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
    ):
        status, error = await server.post(body, headers)
        assert status == 401, headers
        assert "RAKEL_REST_TOKEN" in error["error"]
    assert server.seen == []
    status, replies = await server.post(body, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and replies[0]["text"] == "svar"
    assert len(server.seen) == 1


@pytest.mark.parametrize("env", [{"RAKEL_RASA_HOST": ALL_INTERFACES}, {"RAKEL_PROFILE": "scaled"}])
async def test_off_loopback_without_a_token_rest_refuses_everything(serve, env):
    server = await serve(load_rest_settings(env))
    status, error = await server.post({"sender": "me", "message": "hei"})
    assert status == 503 and "RAKEL_REST_TOKEN is not set" in error["error"]
    assert server.seen == []


def test_a_short_token_is_refused_at_start():
    with pytest.raises(SettingsError, match="RAKEL_REST_TOKEN must be at least 32"):
        load_rest_settings({"RAKEL_REST_TOKEN": "short"})


def test_the_token_is_not_in_the_settings_text_form():
    assert TOKEN not in repr(load_rest_settings({"RAKEL_REST_TOKEN": TOKEN}))


@given(st.text(max_size=80))
@settings(max_examples=300, deadline=None)
def test_no_other_authorization_header_passes(header):
    # Fuzz: whatever else a caller sends, only the exact bearer token gets in.
    required = RestSettings(token=TOKEN, required=True)
    if header.strip() in (TOKEN, f"Bearer {TOKEN}"):
        return
    assert refusal(required, header).status == 401
    assert refusal(required, f"Bearer {header}").status == 401
    assert refusal(required, f"Bearer {TOKEN}") is None

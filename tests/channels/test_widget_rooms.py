"""Which conversation a widget socket sees: the channel's socket.io server in a real Sanic
server, with socket.io clients (no Rasa: every message is answered with its own text)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import socketio
from rasa.core.channels.channel import UserMessage

from bot.channels import widget_token
from bot.channels.socketio import WidgetSocketIOInput
from tests.support.sanic_server import serve

KEY = "a-test-widget-key-of-at-least-32-bytes"
ORIGIN = "http://intranett.test"
QUIET = 0.5  # long enough for a reply to a socket that should get one to arrive


async def echo(message: UserMessage) -> None:
    await message.output_channel.send_text_message(message.sender_id, f"ekko: {message.text}")


@pytest.fixture
async def url() -> AsyncIterator[str]:
    channel = WidgetSocketIOInput(origins=[ORIGIN], key=KEY)
    async with serve(channel.blueprint(echo)) as base:
        yield base


class Widget:
    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self.token = token
        self.sio = socketio.AsyncClient(reconnection=False)
        self.replies: asyncio.Queue = asyncio.Queue()
        self.confirmed: asyncio.Queue = asyncio.Queue()
        self.sio.on("bot_uttered", self.replies.put)
        self.sio.on("session_confirm", self.confirmed.put)

    async def __aenter__(self) -> Widget:
        await self.sio.connect(
            self.url,
            headers={"Origin": ORIGIN},
            auth={"token": self.token} if self.token else None,
            transports=["polling"],
            wait_timeout=10,
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        # A polling client's clean disconnect waits for its open long-poll (the server's
        # 25 s ping interval); closing the transport and the reader is as final.
        reader = self.sio.eio.read_loop_task
        await self.sio.eio.disconnect(abort=True)
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def session(self, presented: str | None = None) -> str:
        await self.sio.emit("session_request", {"session_id": presented})
        return await asyncio.wait_for(self.confirmed.get(), 10)

    async def say(self, text: str, session_id: str | None = None) -> None:
        await self.sio.emit("user_uttered", {"message": text, "session_id": session_id})

    async def reply(self) -> str:
        return (await asyncio.wait_for(self.replies.get(), 10))["text"]

    async def nothing_arrives(self) -> bool:
        await asyncio.sleep(QUIET)
        return self.replies.empty()


async def test_a_socket_that_asks_for_a_new_session_leaves_the_old_room(url):
    async with Widget(url) as first, Widget(url) as second:
        old = await first.session()
        new = await first.session()  # e.g. "start a new conversation"
        assert new.split(".")[0] != old.split(".")[0]
        # Another tab continues the old conversation with its signed id...
        assert await second.session(old) == old
        await second.say("hei fra fane to")
        assert await second.reply() == "ekko: hei fra fane to"
        # ...and the first socket no longer hears it.
        assert await first.nothing_arrives()
        await first.say("hei")
        assert await first.reply() == "ekko: hei"
        assert await second.nothing_arrives()


async def test_a_session_signed_for_one_user_cannot_be_joined_by_another(url):
    kari_token = widget_token.issue(KEY, "kari", "Kari")
    ola_token = widget_token.issue(KEY, "ola", "Ola")
    async with Widget(url, kari_token) as kari:
        karis = await kari.session()
        for intruder_token in (None, ola_token):  # anonymous, another user
            async with Widget(url, intruder_token) as intruder:
                fresh = await intruder.session(karis)
                assert fresh.split(".")[0] != karis.split(".")[0]
                await kari.say("mitt passord virker ikke")
                assert await kari.reply() == "ekko: mitt passord virker ikke"
                assert await intruder.nothing_arrives()
                # A session id named in the message does not redirect it either.
                await intruder.say("hei", session_id=karis)
                assert await intruder.reply() == "ekko: hei"
                assert await kari.nothing_arrives()
        # Kari herself, with a fresh token after a reload, continues her conversation.
        async with Widget(url, widget_token.issue(KEY, "kari", "Kari")) as reloaded:
            assert await reloaded.session(karis) == karis


async def test_a_token_living_longer_than_the_channels_maximum_leaves_the_user_anonymous():
    seen: list[UserMessage] = []

    async def record(message: UserMessage) -> None:
        seen.append(message)
        await echo(message)

    channel = WidgetSocketIOInput(origins=[ORIGIN], key=KEY, token_max_lifetime=600)
    async with serve(channel.blueprint(record)) as base:
        for ttl in (3600, 300):
            async with Widget(base, widget_token.issue(KEY, "kari", "Kari", ttl=ttl)) as kari:
                await kari.session()
                await kari.say("hei")
                assert await kari.reply() == "ekko: hei"  # helped either way
    too_long, short = (message.metadata for message in seen)
    assert "rakel_identity" not in too_long
    assert short["rakel_identity"] == {"id": "kari", "name": "Kari", "source": "intranet"}

"""The entry guard inside a real Sanic server, wired by Rasa's own channel registration:
the notices are the texts of the agent the server loaded (`app.ctx.agent.domain`)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from rasa.core.channels import channel as rasa_channels
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.domain import Domain
from sanic import Sanic

from bot.channels.length_limit import MAX_MESSAGE_CHARS
from bot.channels.rest import MaskingRestInput

LOADED = Domain.from_dict(
    {
        "responses": {
            "utter_message_too_long": [{"text": "Modellens tekst: skriv kortere."}],
            "utter_action_unavailable": [{"text": "Modellens tekst: prøv igjen."}],
        }
    }
)


class Agent:
    """Stands where Rasa's Agent is: the loaded domain, and the message handler."""

    def __init__(self, domain: Domain | None) -> None:
        self.domain = domain
        self.seen: list[str] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.seen.append(message.text)
        if message.text != "stille":  # a custom action that failed: no reply
            await message.output_channel.send_text_message(message.sender_id, "svar")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def serve(agent: Agent) -> AsyncIterator[str]:
    app = Sanic(f"entry-guard-{id(agent)}")
    rasa_channels.register([MaskingRestInput()], app, route="/webhooks/")
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.before_start()
    # Rasa loads the agent in a before_server_start listener after the channels'.
    app.ctx.agent = agent
    await server.after_start()
    task = asyncio.ensure_future(server.serve_forever())
    try:
        yield f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
        task.cancel()


@pytest.fixture
def agent() -> Agent:
    return Agent(LOADED)


@pytest.fixture
async def webhook(agent, monkeypatch) -> AsyncIterator[str]:
    # Sanic 21.12 rewrites some of its methods at startup ("touch-up"); a second server
    # in one process fails there unless Sanic knows it runs under test.
    monkeypatch.setattr(Sanic, "test_mode", True)
    async for url in serve(agent):
        yield url


async def texts(url: str, message: str) -> list[str]:
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"sender": "u1", "message": message}) as response:
            assert response.status == 200
            return [m["text"] for m in await response.json()]


async def test_the_loaded_domains_texts_are_sent_and_messages_masked_and_limited(agent, webhook):
    assert await texts(webhook, "a" * (MAX_MESSAGE_CHARS + 1)) == [
        "Modellens tekst: skriv kortere."
    ]
    assert await texts(webhook, "stille") == ["Modellens tekst: prøv igjen."]
    assert await texts(webhook, "tlf 912 34 567") == ["svar"]
    # The over-long message never reached the agent; the number was masked before it did.
    assert agent.seen == ["stille", "tlf [telefonnummer fjernet]"]


@pytest.mark.parametrize("agent", [Agent(None)])
async def test_without_a_loaded_model_the_guard_stays_quiet_and_says_why(agent, webhook, caplog):
    # No model, no domain: Rasa answers nothing; neither does the guard, but it logs why.
    assert await texts(webhook, "a" * (MAX_MESSAGE_CHARS + 1)) == []
    assert "Rasa has no model loaded" in caplog.text

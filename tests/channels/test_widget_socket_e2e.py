"""The widget's socket.io channel against the real Rasa server, as a non-browser client sees it:
origin check, server-issued signed session ids, identity only from our signed token."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from contextlib import closing

import pytest
import requests
import socketio

from bot.settings import load_settings

pytestmark = pytest.mark.e2e


class WidgetClient:
    def __init__(
        self,
        rakel,
        origin: str | None = None,
        token: str | None = None,
        user_id: str | None = None,
    ) -> None:
        self.rakel = rakel
        self.origin = origin or rakel.web_url
        self.token = token
        self.user_id = user_id  # whom `token` names, if it is valid
        self.sio = socketio.AsyncClient(reconnection=False)
        self.session: str | None = None
        self.messages: asyncio.Queue = asyncio.Queue()
        self._confirmed: asyncio.Queue = asyncio.Queue()
        self.sio.on("session_confirm", self._confirmed.put)
        self.sio.on("bot_uttered", self.messages.put)

    async def connect(self, session_id: str | None = None) -> str:
        await self.sio.connect(
            self.rakel.rasa_url,
            headers={"Origin": self.origin},
            auth={"token": self.token} if self.token else None,
            socketio_path="/socket.io",
            wait_timeout=10,
            # Like the widget: Sanic 21.12's websockets fail on Python 3.11.
            transports=["polling"],
        )
        await self.sio.emit("session_request", {"session_id": session_id})
        self.session = await asyncio.wait_for(self._confirmed.get(), 10)
        return self.session

    async def say(self, text: str, metadata: dict | None = None) -> list[dict]:
        await self.sio.emit(
            "user_uttered",
            {"message": text, "session_id": self.session, "metadata": metadata or {}},
        )
        replies = [await asyncio.wait_for(self.messages.get(), 60)]
        while True:  # collect the rest of this turn
            try:
                replies.append(await asyncio.wait_for(self.messages.get(), 1.5))
            except asyncio.TimeoutError:
                return replies

    @property
    def conversation_id(self) -> str:
        """What Rasa calls this conversation (bot/identity.py)."""
        if self.user_id:
            return f"intranet:{self.user_id}"
        return f"anon:widget:{(self.session or '').split('.')[0]}"

    def events(self) -> list[dict]:
        """This conversation's events, read from the tracker store itself: Rasa's HTTP
        API does not unquote its path, so it cannot name `intranet:molde\\kari`."""
        with closing(sqlite3.connect(self.rakel.var_dir / "tracker.db")) as connection:
            rows = connection.execute(
                "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (self.conversation_id,)
            ).fetchall()
        return [json.loads(data) for (data,) in rows]

    def last_metadata(self) -> dict:
        return [e for e in self.events() if e["event"] == "user"][-1]["metadata"]

    async def close(self) -> None:
        await self.sio.disconnect()


def issue_token(rakel, user_id: str, name: str) -> str:
    key = load_settings(rakel.env).secret("widget_issuer_key")
    response = requests.post(
        f"{rakel.web_url}/widget/token",
        timeout=10,
        headers={"Authorization": f"Bearer {key}"},
        json={"user_id": user_id, "name": name},
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


async def test_a_foreign_origin_is_refused(rakel):
    client = WidgetClient(rakel, origin="https://evil.example")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect()
    # ...while the intranet's own origin gets in.
    allowed = WidgetClient(rakel)
    assert await allowed.connect()
    await allowed.close()


async def test_session_ids_are_issued_signed_and_forgeries_get_a_fresh_one(rakel):
    client = WidgetClient(rakel)
    session = await client.connect()
    random_part, signature = session.split(".")
    assert len(random_part) == 32 and len(signature) == 32
    await client.say("hei")
    await client.close()

    # Presenting the signed id again continues the conversation...
    again = WidgetClient(rakel)
    assert await again.connect(session) == session
    await again.close()
    # ...a guessed or tampered id does not.
    for forged in (random_part, f"{random_part}.{'0' * 32}", "victim-session"):
        intruder = WidgetClient(rakel)
        fresh = await intruder.connect(forged)
        assert fresh.split(".")[0] != random_part
        await intruder.close()


async def test_identity_comes_only_from_the_signed_token(rakel):
    forged = {"rakel_identity": {"id": "ceo", "name": "Sjefen", "source": "intranet"}}
    anonymous = WidgetClient(rakel)
    await anonymous.connect()
    await anonymous.say("hei", metadata=forged)
    assert "rakel_identity" not in anonymous.last_metadata()
    await anonymous.close()

    known = WidgetClient(
        rakel, token=issue_token(rakel, "molde\\kari", "Kari Nordmann"), user_id="molde\\kari"
    )
    await known.connect()
    replies = await known.say("hei", metadata=forged)
    assert replies and "Rakel" in replies[0]["text"]
    assert known.last_metadata()["rakel_identity"] == {
        "id": "molde\\kari",
        "name": "Kari Nordmann",
        "source": "intranet",
    }
    await known.close()

    # A token signed with another key is ignored: the user chats anonymously.
    from bot.channels import widget_token

    other_key = "not-our-key-but-32-bytes-long-anyway"
    bogus = WidgetClient(rakel, token=widget_token.issue(other_key, "ceo", "Sjefen"))
    await bogus.connect()
    await bogus.say("hei")
    assert "rakel_identity" not in bogus.last_metadata()
    await bogus.close()


async def test_a_signed_in_user_sees_their_tickets_and_an_anonymous_one_does_not(rakel):
    from bot.db import Database
    from bot.settings import CONTACT_DEFAULTS
    from bot.tickets.repository import create_ticket
    from tests.test_handoff_e2e import text

    # Kari's ticket from an earlier conversation (another browser, another day).
    database = Database(load_settings(rakel.env).db_url)
    public_id = database.run(
        lambda s: (
            create_ticket(
                s,
                channel="socketio",
                conversation_id="intranet:molde\\kari",
                requester_id="intranet:molde\\kari",
                category="teams",
                description="Teams-møtet mitt har ingen lyd",
            ).public_id
        )
    )
    database.dispose()

    known = WidgetClient(
        rakel, token=issue_token(rakel, "molde\\kari", "Kari Nordmann"), user_id="molde\\kari"
    )
    await known.connect()
    replies = await known.say(f"Hva er status på {public_id}?")
    assert replies[0]["text"].startswith(f"{public_id} «Teams-møtet mitt har ingen lyd»: ")
    await known.close()

    # The same browser without a valid token is anonymous, whatever it claims.
    refusal = text("utter_ticket_status_needs_identity", **CONTACT_DEFAULTS)
    forged = {"rakel_identity": {"id": "molde\\kari", "source": "intranet"}}
    anonymous = WidgetClient(rakel)
    await anonymous.connect()
    assert [r["text"] for r in await anonymous.say(f"Hva er status på {public_id}?", forged)] == [
        refusal
    ]
    assert anonymous.conversation_id.startswith("anon:widget:")
    assert "rakel_identity" not in anonymous.last_metadata()
    await anonymous.close()


def test_token_endpoint_requires_the_issuer_key_and_valid_input(rakel):
    url = f"{rakel.web_url}/widget/token"
    body = {"user_id": "kari", "name": "Kari"}
    assert requests.post(url, json=body, timeout=10).status_code == 401
    assert (
        requests.post(
            url, json=body, headers={"Authorization": "Bearer guess"}, timeout=10
        ).status_code
        == 401
    )
    key = load_settings(rakel.env).secret("widget_issuer_key")
    bad = requests.post(
        url, data="not json", timeout=10, headers={"Authorization": f"Bearer {key}"}
    )
    assert bad.status_code == 400 and "user_id" in bad.json()["error"]


async def test_did_you_mean_and_the_honest_replies_reach_the_widget(rakel):
    from tests.test_handoff_e2e import text
    from tests.test_honest_replies_e2e import AMBIGUOUS, HR

    client = WidgetClient(rakel)
    await client.connect()
    try:
        replies = await client.say(AMBIGUOUS)
        assert replies[0]["text"] == text("utter_did_you_mean")
        buttons = replies[0]["quick_replies"]
        assert buttons[-1] == {
            "content_type": "text",
            "title": "Ingen av disse",
            "payload": "/deny",
        }
        assert buttons[0]["payload"].startswith('/faq{"article_id": ')
        replies = await client.say("/deny")
        assert [r["text"] for r in replies] == [text("utter_none_fit"), text("utter_offer_ticket")]
        assert [r["text"] for r in await client.say(HR)] == [text("utter_out_of_scope_hr")]
    finally:
        await client.close()


async def test_topic_clarifier_and_next_best_reach_the_widget(rakel):
    from tests.test_handoff_e2e import text

    client = WidgetClient(rakel)
    await client.connect()
    try:
        replies = await client.say("pc-en er treg")
        assert replies[0]["text"] == text("utter_topic_clarifier", topic_label="PC-bytte")
        buttons = replies[0]["quick_replies"]
        assert {
            "content_type": "text",
            "title": "PC-en er treg",
            "payload": '/faq{"article_id": "pc_slow"}',
        } in buttons
        assert buttons[-1] == {
            "content_type": "text",
            "title": "Noe annet",
            "payload": "/request_human",
        }
        await client.say('/faq{"article_id": "pc_slow"}')
        replies = await client.say("/deny")
        assert [r["text"] for r in replies] == [
            "Beklager at det ikke løste problemet.",
            text("utter_next_best"),
        ]
        offered = replies[-1]["quick_replies"]
        assert offered[-1]["payload"] == "/deny"
        assert all(b["payload"].startswith('/faq{"article_id": "pc_') for b in offered[:-1])
    finally:
        await client.close()

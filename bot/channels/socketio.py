"""The intranet web widget's channel: Rasa's socket.io channel, locked down.

Rasa 3.6's `SocketIOInput` accepts any Origin (`cors_allowed_origins=[]` switches the
check off), lets anyone who knows a session id join that conversation, and passes
client-sent metadata on untouched. Ours:
- accepts only the configured intranet origins (RAKEL_WIDGET_ORIGINS);
- issues session ids itself: random, HMAC-signed with Settings.secret("widget_key")
  together with the socket's verified identity (none for an anonymous user), and binds
  them to the socket; a client presenting a badly signed id, or one signed for someone
  else, gets a fresh one, and messages always go to the socket's own session, never to
  a client-named one;
- takes identity only from a token our web service signed (bot/channels/widget_token.py,
  lifetime at most RAKEL_WIDGET_TOKEN_MAX_LIFETIME_SECONDS) and drops any
  `rakel_identity` the client put into the metadata;
- names the conversation after who is talking (bot/identity.py): `intranet:<user id>`
  for a signed-in intranet user, else `anon:widget:<session>`. The socket joins the
  room of that name, which is where Rasa's replies (addressed by conversation id) go;
  it is in one conversation's room at a time: asking for another session leaves the
  previous room, so replies reach only the sockets now holding that conversation.
Session persistence is always on, so a reload continues the same conversation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.channels import widget_token
from bot.channels.entry_guard import EntryGuardMixin
from bot.identity import IDENTITY_KEY, INTRANET, WIDGET_CHANNEL, anonymous, namespaced
from bot.settings import WIDGET_TOKEN_MAX_LIFETIME_SECONDS, load_settings, widget_origins

logger = logging.getLogger(__name__)


SESSION = re.compile(r"[0-9a-f]{32}")


def new_session() -> str:
    return secrets.token_hex(16)


def owner_of(identity: dict[str, Any] | None) -> str:
    """Whom a session belongs to: the verified user, or "" for anyone anonymous."""
    return f"{identity['source']}:{identity['id']}" if identity else ""


def sign_session(key: str, session: str, owner: str) -> str:
    # JSON keeps owner and session apart whatever characters a user id holds.
    signed = json.dumps([owner, session]).encode()
    mac = hmac.new(key.encode(), signed, hashlib.sha256).hexdigest()[:32]
    return f"{session}.{mac}"


def verified_session(key: str, presented: Any, owner: str) -> str | None:
    """The session part of an id we issued to this owner, else None."""
    if not isinstance(presented, str) or presented.count(".") != 1:
        return None
    session, _ = presented.split(".")
    if not SESSION.fullmatch(session):
        return None
    expected = sign_session(key, session, owner)
    return session if hmac.compare_digest(expected, presented) else None


class WidgetOutput(SocketIOOutput):
    """One message per answer: Rasa's splits paragraphs into separate messages."""

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"text": text.strip()})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        quick_replies = [
            {"content_type": "text", "title": button["title"], "payload": button["payload"]}
            for button in buttons
        ]
        await self._send_message(
            recipient_id, {"text": text.strip(), "quick_replies": quick_replies}
        )


class _WidgetInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> _WidgetInput:
        settings = load_settings()
        credentials = credentials or {}
        return cls(
            origins=widget_origins(settings),
            key=settings.secret("widget_key"),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            token_max_lifetime=settings.widget_token_max_lifetime_seconds,
        )

    def __init__(
        self,
        origins: list[str],
        key: str,
        socketio_path: str = "/socket.io",
        token_max_lifetime: int = WIDGET_TOKEN_MAX_LIFETIME_SECONDS,
    ) -> None:
        super().__init__(session_persistence=True, socketio_path=socketio_path)
        # Rasa's attribute is `str | None`; ours always has a path.
        self.socketio_path: str = socketio_path
        self.origins = origins
        self.key = key
        self.token_max_lifetime = token_max_lifetime

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # python-engineio refuses a handshake whose Origin is not in this list.
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=self.origins)
        webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect")
        async def connect(sid: str, environ: dict[str, Any], auth: object) -> bool:
            origin = environ.get("HTTP_ORIGIN")
            if origin is not None and origin.rstrip("/") not in self.origins:
                logger.warning("widget socket refused: origin %r not allowed", origin)
                return False
            identity = None
            token = (auth or {}).get("token") if isinstance(auth, dict) else None
            if token:
                try:
                    identity = widget_token.identity(self.key, str(token), self.token_max_lifetime)
                except widget_token.InvalidWidgetToken as exc:
                    # Still let the user chat, anonymously: an expired page token
                    # must not lock anyone out of help.
                    logger.info("widget identity token refused: %s", exc)
            await sio.save_session(sid, {"identity": identity, "session": None})
            return True

        @sio.on("session_request")
        async def session_request(sid: str, data: Any) -> None:
            state = await sio.get_session(sid)
            owner = owner_of(state.get("identity"))
            presented = data.get("session_id") if isinstance(data, dict) else None
            session = verified_session(self.key, presented, owner) or new_session()
            state["session"] = session
            identity = state.get("identity")
            previous = state.get("conversation")
            state["conversation"] = (
                namespaced(INTRANET, identity["id"])
                if identity
                else anonymous(WIDGET_CHANNEL, session)
            )
            if previous and previous != state["conversation"]:
                await sio.leave_room(sid, previous)
            await sio.save_session(sid, state)
            await sio.enter_room(sid, state["conversation"])
            await sio.emit("session_confirm", sign_session(self.key, session, owner), room=sid)

        @sio.on(self.user_message_evt)
        async def handle_message(sid: str, data: Any) -> None:
            state = await sio.get_session(sid)
            if not state.get("conversation") or not isinstance(data, dict):
                logger.info("widget message before session_request ignored")
                return
            metadata = data.get(self.metadata_key)
            metadata = dict(metadata) if isinstance(metadata, dict) else {}
            metadata.pop(IDENTITY_KEY, None)  # never trust the client for identity
            if state.get("identity"):
                metadata[IDENTITY_KEY] = state["identity"]
            text = data.get("message")
            await on_new_message(
                UserMessage(
                    text if isinstance(text, str) else "",
                    WidgetOutput(sio, self.bot_message_evt),
                    state["conversation"],
                    input_channel=self.name(),
                    metadata=metadata,
                )
            )

        return webhook

    def get_output_channel(self) -> WidgetOutput | None:
        return WidgetOutput(self.sio, self.bot_message_evt) if self.sio else None


class WidgetSocketIOInput(EntryGuardMixin, _WidgetInput):
    """The widget channel Rasa loads from credentials.yml."""

"""The REST channel (`/webhooks/rest/webhook`): Rasa's, with the entry guard, strict
request validation, a namespace for its senders and a token off loopback.

Rasa's own RestInput answers malformed bodies (no JSON object, no sender, a number
as message) with a 500 from deep inside the processor. Operators and integrators
get a 400 that says what is wrong instead.

Nobody vouches for a REST caller, so what it sends never names another channel's
conversation or person: its `sender` becomes the conversation `anon:rest:<sender>`
(bot/identity.py), and client-sent `rakel_identity` metadata is dropped.

Bound to loopback (`make run`) the channel is open for local use; anywhere else it
wants `Authorization: Bearer <RAKEL_REST_TOKEN>` (bot.settings.RestSettings).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage as BadRequest  # 400 in sanic 21.12
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.entry_guard import EntryGuardMixin
from bot.identity import IDENTITY_KEY, REST_CHANNEL, anonymous, max_chars_after
from bot.settings import RestSettings, load_rest_settings

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = max_chars_after(anonymous(REST_CHANNEL, ""))


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json
    except Exception as exc:  # noqa: BLE001 - sanic raises several kinds for bad JSON
        raise BadRequest("Request body must be a JSON object.") from exc
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object.")
    return body


def refusal(settings: RestSettings, authorization: str | None) -> HTTPResponse | None:
    """The error response for a request the token rules refuse, else None."""
    if settings.token is None:
        if not settings.required:
            return None
        return response.json(
            {
                "error": "The REST channel is disabled: Rasa listens on a non-loopback "
                "address or runs in the scaled profile, and RAKEL_REST_TOKEN is not set."
            },
            status=HTTPStatus.SERVICE_UNAVAILABLE,
        )
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode(), settings.token.encode()
    ):
        return None
    return response.json(
        {"error": "Missing or wrong token: send 'Authorization: Bearer <RAKEL_REST_TOKEN>'."},
        status=HTTPStatus.UNAUTHORIZED,
        headers={"WWW-Authenticate": "Bearer"},
    )


class MaskingRestInput(EntryGuardMixin, RestInput):
    @classmethod
    def name(cls) -> str:
        return REST_CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> MaskingRestInput:
        return cls(load_rest_settings())

    def __init__(self, settings: RestSettings | None = None) -> None:
        self.settings = settings or RestSettings()
        if self.settings.required and self.settings.token is None:
            logger.warning(
                "REST channel refuses every message: RAKEL_REST_TOKEN is not set and "
                "Rasa does not listen on loopback only (or runs in the scaled profile)."
            )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def authenticate(request: Request) -> HTTPResponse | None:
            # The GET health check says nothing about anyone; messages need the token.
            if request.method == "GET":
                return None
            refused = refusal(self.settings, request.headers.get("Authorization"))
            if refused is not None:
                logger.warning("Refused a REST request from %s", request.remote_addr or request.ip)
            return refused

        return webhook

    async def _extract_sender(self, req: Request) -> str | None:
        sender = _body(req).get("sender")
        if not isinstance(sender, str) or not sender.strip():
            raise BadRequest("'sender' must be a non-empty string.")
        if len(sender) > MAX_SENDER_CHARS:
            raise BadRequest(f"'sender' must be at most {MAX_SENDER_CHARS} characters.")
        return anonymous(REST_CHANNEL, sender)

    def _extract_message(self, req: Request) -> str | None:
        message = _body(req).get("message")
        if not isinstance(message, str):
            raise BadRequest("'message' must be a string.")
        return message

    def _extract_input_channel(self, req: Request) -> str:
        # The channel name is ours to say, not the client's.
        return self.name()

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        metadata = _body(request).get("metadata")
        if metadata is None:
            return None
        if not isinstance(metadata, dict):
            raise BadRequest("'metadata' must be a JSON object.")
        return {key: value for key, value in metadata.items() if key != IDENTITY_KEY}

"""The REST channel (`/webhooks/rest/webhook`): Rasa's, with the entry guard and
strict request validation.

Rasa's own RestInput answers malformed bodies (no JSON object, no sender, a number
as message) with a 500 from deep inside the processor. Operators and integrators
get a 400 that says what is wrong instead. Client-sent `rakel_identity` metadata is
dropped: identity never comes from the client (see docs/architecture.md).
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.rest import RestInput
from sanic.exceptions import InvalidUsage as BadRequest  # 400 in sanic 21.12
from sanic.request import Request

from bot.channels.entry_guard import EntryGuardMixin

MAX_SENDER_CHARS = 255
IDENTITY_KEY = "rakel_identity"


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json
    except Exception as exc:  # noqa: BLE001 - sanic raises several kinds for bad JSON
        raise BadRequest("Request body must be a JSON object.") from exc
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object.")
    return body


class MaskingRestInput(EntryGuardMixin, RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    async def _extract_sender(self, req: Request) -> str | None:
        sender = _body(req).get("sender")
        if not isinstance(sender, str) or not sender.strip():
            raise BadRequest("'sender' must be a non-empty string.")
        if len(sender) > MAX_SENDER_CHARS:
            raise BadRequest(f"'sender' must be at most {MAX_SENDER_CHARS} characters.")
        return sender

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

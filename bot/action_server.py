"""Start the rasa-sdk action server for `bot.actions`, answering only Rasa.

Actions write tickets and read people's cases, so a call must carry the shared
`action_token` that Rasa sends with every action call (endpoints.yml:
`Authorization: Bearer …`). Only /health stays open, for readiness checks.
"""

from __future__ import annotations

import hmac
import logging
from urllib.parse import urlparse

from rasa_sdk import endpoint, utils
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import Settings

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})


def refusal(request: Request, token: str) -> HTTPResponse | None:
    """None when the call carries the token; else the 401/403 answer for it."""
    if request.path in OPEN_PATHS:
        return None
    scheme, _, sent = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not sent:
        return response.json(
            {"error": "unauthorized", "detail": "Authorization: Bearer <action token> required"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="rakel-actions"'},
        )
    # Constant time: the answer's timing says nothing about how much of a guess was right.
    if not hmac.compare_digest(sent.encode("utf-8"), token.encode("utf-8")):
        log.warning("action call with a wrong token from %s", request.ip)
        return response.json({"error": "forbidden", "detail": "wrong action token"}, status=403)
    return None


def create_app(settings: Settings) -> Sanic:
    token = settings.secret("action_token")
    app = endpoint.create_app("bot.actions", cors_origins=None)

    @app.on_request
    async def require_token(request: Request) -> HTTPResponse | None:
        return refusal(request, token)

    # What rasa-sdk's own `endpoint.run` attaches: its plugins' listeners and routes.
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    return app


def serve(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app(settings)
    port = urlparse(settings.action_server_url).port or 5055
    # Loopback unless RAKEL_ACTIONS_HOST says otherwise (rasa-sdk's own default is 0.0.0.0).
    log.info("action server on http://%s:%s", settings.actions_host, port)
    app.run(settings.actions_host, port, workers=utils.number_of_sanic_workers())

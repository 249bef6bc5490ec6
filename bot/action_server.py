"""Start the rasa-sdk action server for `bot.actions` on the configured address."""

from __future__ import annotations

import logging
import os
from urllib.parse import urlparse

from rasa_sdk import endpoint

from bot.settings import Settings


def serve(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # rasa-sdk reads its bind address from SANIC_HOST; default to loopback, not 0.0.0.0.
    os.environ.setdefault("SANIC_HOST", os.environ.get("RAKEL_ACTIONS_HOST", "127.0.0.1"))
    port = urlparse(settings.action_server_url).port or 5055
    endpoint.run("bot.actions", port=port, cors_origins=None)

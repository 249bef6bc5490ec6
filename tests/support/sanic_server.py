"""A channel's blueprint served by a real Sanic server inside the test's event loop.

Rasa serves channels with Sanic; this does the same without a Rasa server, so a test
can post to a webhook or open a socket and see what the channel really answers.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sanic import Blueprint, Sanic

from devtools.ports import free_port

# Sanic 21.12 rewrites its protocol methods when an app starts and cannot do it twice
# in one process unless in test mode (what sanic-testing sets too).
Sanic.test_mode = True


@asynccontextmanager
async def serve(blueprint: Blueprint, url_prefix: str | None = None) -> AsyncIterator[str]:
    """The base URL (http://127.0.0.1:port) while the blueprint is served."""
    port = free_port()
    app = Sanic(f"test_app_{uuid.uuid4().hex}")
    app.blueprint(blueprint, url_prefix=url_prefix)
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()

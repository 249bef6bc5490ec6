"""The intranet web widget: its files, a demo intranet page, and identity tokens.

Served by our web service from the checkout (no CDN, no bundler): our own
widget/rakel-widget.js + .css and socket.io-client's prebuilt browser file from
widget/node_modules (pinned by widget/package-lock.json, installed by scripts/setup.sh).
The widget speaks to Rasa's socket.io channel (bot/channels/socketio.py).
"""

from __future__ import annotations

import hmac
from html import escape
from string import Template

from aiohttp import web

from bot.channels import widget_token
from bot.content.catalogue import catalogue
from bot.identity import INTRANET, max_chars_after, namespaced
from bot.settings import PROJECT_ROOT
from bot.web.keys import SETTINGS

WIDGET_DIR = PROJECT_ROOT / "widget"
FILES = {
    "rakel-widget.js": WIDGET_DIR / "rakel-widget.js",
    "rakel-widget.css": WIDGET_DIR / "rakel-widget.css",
    "socket.io.min.js": WIDGET_DIR
    / "node_modules"
    / "socket.io-client"
    / "dist"
    / "socket.io.min.js",
}
CACHE = "public, max-age=300"
# The user id becomes the conversation id `intranet:<user id>` (bot/identity.py).
MAX_USER_ID_CHARS = max_chars_after(namespaced(INTRANET, ""))


async def asset(request: web.Request) -> web.StreamResponse:
    path = FILES.get(request.match_info["name"])
    if path is None:
        raise web.HTTPNotFound()
    if not path.exists():  # npm ci not run: say so to the operator
        raise web.HTTPServiceUnavailable(text=f"{path.name} is missing: run `make setup`.")
    return web.FileResponse(path, headers={"Cache-Control": CACHE})


async def demo(request: web.Request) -> web.Response:
    """A stand-in intranet page embedding the widget, as a municipality would."""
    settings = request.app[SETTINGS]
    page = Template((WIDGET_DIR / "demo.html").read_text(encoding="utf-8"))
    html = page.substitute(rasa_url=escape(settings.rasa_url, quote=True))
    return web.Response(text=html, content_type="text/html", charset="utf-8")


async def token(request: web.Request) -> web.Response:
    """POST /widget/token: the intranet's backend gets a token for its logged-in user.

    Server to server only, authenticated with Settings.secret("widget_issuer_key"):
    a browser must never be able to mint an identity for itself.
    """
    settings = request.app[SETTINGS]
    expected = f"Bearer {settings.secret('widget_issuer_key')}"
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return web.json_response({"error": "unauthorized"}, status=401)
    try:
        body = await request.json()
    except ValueError:
        body = None
    user_id = body.get("user_id") if isinstance(body, dict) else None
    name = body.get("name") if isinstance(body, dict) else None
    municipality = body.get("municipality") if isinstance(body, dict) else None
    known = list(catalogue().municipalities)
    if municipality is not None and municipality not in known:
        return web.json_response(
            {"error": f"municipality must be one of {', '.join(known)}, or left out"}, status=400
        )
    if (
        not isinstance(user_id, str)
        or not user_id.strip()
        or len(user_id) > MAX_USER_ID_CHARS
        or (name is not None and (not isinstance(name, str) or len(name) > 255))
    ):
        return web.json_response(
            {
                "error": 'expected JSON {"user_id": "…", "name": "…"} (user_id '
                f"≤ {MAX_USER_ID_CHARS} characters, name ≤ 255)"
            },
            status=400,
        )
    ttl = widget_token.DEFAULT_TTL_SECONDS
    signed = widget_token.issue(
        settings.secret("widget_key"), user_id.strip(), name, ttl, municipality=municipality
    )
    return web.json_response({"token": signed, "expires_in": ttl})

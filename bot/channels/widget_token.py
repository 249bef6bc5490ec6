"""Identity for the intranet widget: short-lived tokens our web service signs.

The intranet knows who is logged in; the widget's socket does not. The intranet's
backend asks our web service for a token (POST /widget/token) and puts it in the page;
the socketio channel verifies it and turns it into `rakel_identity`. HS256 with
Settings.secret("widget_key"), shared by the web service and the Rasa process.
"""

from __future__ import annotations

import time
from typing import Any

import jwt

ALGORITHM = "HS256"
ISSUER = "rakel-web"
AUDIENCE = "rakel-widget"
DEFAULT_TTL_SECONDS = 15 * 60
MAX_TTL_SECONDS = 8 * 3600


class InvalidWidgetToken(Exception):
    pass


def issue(key: str, user_id: str, name: str | None, ttl: int = DEFAULT_TTL_SECONDS) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": user_id,
        "iat": now,
        "exp": now + min(ttl, MAX_TTL_SECONDS),
    }
    if name:
        claims["name"] = name
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def identity(key: str, token: str) -> dict[str, Any]:
    """`rakel_identity` from a valid token, else InvalidWidgetToken."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidWidgetToken(str(exc)) from exc
    return {"id": claims["sub"], "name": claims.get("name"), "source": "intranet"}

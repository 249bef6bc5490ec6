"""Identity for the intranet widget: short-lived tokens our web service signs.

The intranet knows who is logged in; the widget's socket does not. The intranet's
backend asks our web service for a token (POST /widget/token) and puts it in the page;
the socketio channel verifies it and turns it into `rakel_identity`. HS256 with
Settings.secret("widget_key"), shared by the web service and the Rasa process.

A token whose lifetime (exp - iat) exceeds RAKEL_WIDGET_TOKEN_MAX_LIFETIME_SECONDS is
refused, whoever signed it: a long-lived token copied out of a page would be an
identity for years.
"""

from __future__ import annotations

import time
from typing import Any

import jwt

from bot.settings import WIDGET_TOKEN_MAX_LIFETIME_SECONDS

ALGORITHM = "HS256"
ISSUER = "rakel-web"
AUDIENCE = "rakel-widget"
DEFAULT_TTL_SECONDS = 15 * 60


class InvalidWidgetToken(Exception):
    pass


def issue(
    key: str,
    user_id: str,
    name: str | None,
    ttl: int = DEFAULT_TTL_SECONDS,
    max_lifetime: int = WIDGET_TOKEN_MAX_LIFETIME_SECONDS,
    municipality: str | None = None,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": user_id,
        "iat": now,
        "exp": now + min(ttl, max_lifetime),
    }
    if name:
        claims["name"] = name
    if municipality:  # where the user works, as the intranet knows it (outage notices)
        claims["municipality"] = municipality
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def identity(key: str, token: str, max_lifetime: int) -> dict[str, Any]:
    """`rakel_identity` from a valid token, else InvalidWidgetToken."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            # iat too: without it the lifetime is unknown. PyJWT refuses an iat in the
            # future, so exp - iat bounds how long from now the token is valid.
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidWidgetToken(str(exc)) from exc
    lifetime = int(claims["exp"]) - int(claims["iat"])
    if lifetime > max_lifetime:
        raise InvalidWidgetToken(
            f"token lifetime {lifetime} s exceeds RAKEL_WIDGET_TOKEN_MAX_LIFETIME_SECONDS "
            f"({max_lifetime} s)"
        )
    found: dict[str, Any] = {"id": claims["sub"], "name": claims.get("name"), "source": "intranet"}
    if isinstance(claims.get("municipality"), str):
        found["municipality"] = claims["municipality"]
    return found

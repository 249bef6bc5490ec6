"""Bot Framework authentication both ways, without blocking the event loop.

Inbound: every activity Microsoft posts carries a JWT signed by the Bot Connector.
We verify it against the keys published by the OpenID configuration (fetched lazily,
cached, refetched daily or when an unknown key id shows up), pinned to RS256, with
audience = our app id, the Bot Framework issuer and expiry. Rasa 3.6 fetches the keys
with blocking `requests` in the constructor (no network: no server start) and takes
the algorithm from the token header (an attacker's choice).

Outbound: an app token from the tenant's own authority (client credentials), cached
per instance until shortly before it expires. Rasa 3.6 uses the deprecated
multi-tenant botframework.com authority, which refuses single-tenant bots.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
import jwt
from jwt.algorithms import RSAAlgorithm

from bot.settings import TeamsSettings

logger = logging.getLogger(__name__)

BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
ALGORITHM = "RS256"
CLOCK_SKEW_SECONDS = 300  # Microsoft's guidance for Bot Framework tokens
KEY_REFRESH_SECONDS = 24 * 3600
UNKNOWN_KID_REFETCH_SECONDS = 300  # a forged kid must not make us hammer the endpoint
TOKEN_RENEW_MARGIN_SECONDS = 300
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=10)


class AuthError(Exception):
    """The request is not from the Bot Connector; the message says why (for the log)."""


class InboundAuthenticator:
    def __init__(self, settings: TeamsSettings) -> None:
        self.settings = settings
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _fetch_keys(self, http: aiohttp.ClientSession) -> None:
        jwks_url = self.settings.jwks_url
        if not jwks_url:
            async with http.get(self.settings.openid_config_url, timeout=HTTP_TIMEOUT) as resp:
                resp.raise_for_status()
                jwks_url = (await resp.json(content_type=None))["jwks_uri"]
        async with http.get(jwks_url, timeout=HTTP_TIMEOUT) as resp:
            resp.raise_for_status()
            keys = (await resp.json(content_type=None))["keys"]
        self._keys = {key["kid"]: key for key in keys if "kid" in key}
        self._fetched_at = time.monotonic()

    async def _key(self, http: aiohttp.ClientSession, kid: str) -> dict[str, Any]:
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            stale = not self._keys or age > KEY_REFRESH_SECONDS
            unknown = kid not in self._keys and age > UNKNOWN_KID_REFETCH_SECONDS
            if stale or unknown:
                try:
                    await self._fetch_keys(http)
                except (aiohttp.ClientError, asyncio.TimeoutError, KeyError, ValueError) as exc:
                    # Keep serving with the cached keys; without any, nobody gets in.
                    logger.warning("Could not fetch Bot Framework signing keys: %r", exc)
        if kid not in self._keys:
            raise AuthError(f"unknown signing key id {kid!r}")
        return self._keys[kid]

    async def validate(
        self, authorization: str | None, activity: dict[str, Any], http: aiohttp.ClientSession
    ) -> dict[str, Any]:
        """The verified claims, or AuthError."""
        if not authorization or not authorization.startswith("Bearer "):
            raise AuthError("no Bearer token")
        token = authorization[len("Bearer ") :].strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError(f"malformed token: {exc}") from exc
        if header.get("alg") != ALGORITHM:
            raise AuthError(f"algorithm {header.get('alg')!r} is not {ALGORITHM}")
        jwk = await self._key(http, str(header.get("kid")))
        try:
            claims = jwt.decode(
                token,
                key=RSAAlgorithm.from_jwk(jwk),
                algorithms=[ALGORITHM],
                audience=self.settings.app_id,
                issuer=self.settings.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        # Microsoft's keys name the channels they may sign for.
        endorsements = jwk.get("endorsements")
        channel = activity.get("channelId")
        if endorsements is not None and channel not in endorsements:
            raise AuthError(f"signing key is not endorsed for channel {channel!r}")
        # The token names the serviceUrl Microsoft sent; a different one in the body
        # would make us send our app token to someone else.
        claimed = str(claims.get("serviceurl") or "").rstrip("/")
        if claimed and claimed != str(activity.get("serviceUrl", "")).rstrip("/"):
            raise AuthError("serviceUrl of the activity does not match the token")
        return claims


class AppTokenProvider:
    """Client-credentials token for calls to the Bot Connector, cached until near expiry."""

    def __init__(self, settings: TeamsSettings) -> None:
        self.settings = settings
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self, http: aiohttp.ClientSession) -> str:
        async with self._lock:
            if self._token and time.monotonic() < self._expires_at - TOKEN_RENEW_MARGIN_SECONDS:
                return self._token
            form = {
                "grant_type": "client_credentials",
                "client_id": self.settings.app_id or "",
                "client_secret": self.settings.app_password or "",
                "scope": BOT_FRAMEWORK_SCOPE,
            }
            async with http.post(
                str(self.settings.token_url), data=form, timeout=HTTP_TIMEOUT
            ) as resp:
                if resp.status != 200:
                    detail = (await resp.text())[:300]
                    raise AuthError(f"token endpoint answered {resp.status}: {detail}")
                body = await resp.json(content_type=None)
            self._token = body["access_token"]
            self._expires_at = time.monotonic() + int(body.get("expires_in", 3600))
            return self._token

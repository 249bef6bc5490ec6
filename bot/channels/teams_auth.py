"""Bot Framework authentication both ways, without blocking the event loop.

Inbound: every activity Microsoft posts carries a JWT signed by the Bot Connector.
We verify it against the keys published by the OpenID configuration (fetched lazily,
cached, refetched daily or when an unknown key id shows up, and never more than once
per FETCH_RETRY_SECONDS whatever a request carries), pinned to RS256, with audience =
our app id, the Bot Framework issuer and expiry. Rasa 3.6 fetches the keys with
blocking `requests` in the constructor (no network: no server start) and takes the
algorithm from the token header (an attacker's choice). The activity itself must come
from Teams (`channelId`), from our tenant, and name the serviceUrl the token names:
replies, with our app token, go to that URL.

Outbound: an app token from the tenant's own authority (client credentials), cached
per instance until shortly before it expires. Rasa 3.6 uses the deprecated
multi-tenant botframework.com authority, which refuses single-tenant bots.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import RSAAlgorithm

from bot.settings import TeamsSettings

logger = logging.getLogger(__name__)

BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
ALGORITHM = "RS256"
CLOCK_SKEW_SECONDS = 300  # Microsoft's guidance for Bot Framework tokens
KEY_REFRESH_SECONDS = 24 * 3600
UNKNOWN_KID_REFETCH_SECONDS = 300  # a forged kid must not make us hammer the endpoint
# Between two fetch attempts, whatever the reason (an empty cache after a failed fetch
# included): otherwise every request, forged ones too, would call Microsoft while its
# endpoint is down or answers without keys.
FETCH_RETRY_SECONDS = 30
CHANNEL_ID = "msteams"
TOKEN_RENEW_MARGIN_SECONDS = 300
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=10)


class AuthError(Exception):
    """The request is not from the Bot Connector; the message says why (for the log)."""


def activity_tenants(activity: dict[str, Any]) -> set[str]:
    """Every tenant id the activity names (Teams puts it in two places)."""
    channel_data = activity.get("channelData")
    tenant = channel_data.get("tenant") if isinstance(channel_data, dict) else None
    conversation = activity.get("conversation")
    named = (
        tenant.get("id") if isinstance(tenant, dict) else None,
        conversation.get("tenantId") if isinstance(conversation, dict) else None,
    )
    return {str(value) for value in named if value}


def check_activity(settings: TeamsSettings, activity: dict[str, Any]) -> None:
    """AuthError unless the activity comes from Teams in our tenant.

    A valid token only says that the Bot Connector sent the activity; any Bot Framework
    channel and any tenant that installs the bot could send one.
    """
    channel = activity.get("channelId")
    if channel != CHANNEL_ID:
        raise AuthError(f"channelId {channel!r} is not {CHANNEL_ID!r}")
    tenants = activity_tenants(activity)
    expected = (settings.tenant_id or "").lower()
    if not tenants:
        raise AuthError("the activity names no tenant")
    # Tenant ids are GUIDs, which compare without case.
    if not expected or any(tenant.lower() != expected for tenant in tenants):
        raise AuthError(f"tenant {sorted(tenants)!r} is not RAKEL_TEAMS_TENANT_ID")


class InboundAuthenticator:
    def __init__(
        self, settings: TeamsSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last fetch, successful or not
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
        self._fetched_at = self.clock()

    def _should_fetch(self, kid: str) -> bool:
        now = self.clock()
        if self._attempted_at is not None and now - self._attempted_at < FETCH_RETRY_SECONDS:
            return False
        if not self._keys or self._fetched_at is None:
            return True
        age = now - self._fetched_at
        return age > KEY_REFRESH_SECONDS or (
            kid not in self._keys and age > UNKNOWN_KID_REFETCH_SECONDS
        )

    async def _key(self, http: aiohttp.ClientSession, kid: str) -> dict[str, Any]:
        async with self._lock:
            if self._should_fetch(kid):
                self._attempted_at = self.clock()
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
        # Before the key lookup: an activity from elsewhere costs no key fetch.
        check_activity(self.settings, activity)
        jwk = await self._key(http, str(header.get("kid")))
        try:
            key = RSAAlgorithm.from_jwk(jwk)
            # A key set entry with private parts parses as a private key, which cannot
            # verify (PyJWT would fail with AttributeError): a broken key set, no key.
            if not isinstance(key, RSAPublicKey):
                raise AuthError(f"signing key {header.get('kid')!r} is not a public key")
            claims = jwt.decode(
                token,
                key=key,
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
        # Replies, with our app token, go to the activity's serviceUrl: it must be the one
        # the signed token names. A token without the claim proves nothing about it.
        claimed = claims.get("serviceurl")
        if not isinstance(claimed, str) or not claimed:
            raise AuthError("token has no serviceurl claim")
        given = activity.get("serviceUrl")
        if not isinstance(given, str) or claimed.rstrip("/") != given.rstrip("/"):
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

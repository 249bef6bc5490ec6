"""Local stand-ins for Microsoft's side of a Teams bot, with real cryptography.

One aiohttp server on 127.0.0.1 (in its own thread, so both sync and async tests can
use it) plays the OpenID configuration + JWKS endpoint, the tenant token endpoint and
the Bot Connector (serviceUrl). `sign()` makes Bot Connector tokens with a fresh RSA
key, exactly as Microsoft would; `forge()` variants make the tokens attackers could.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

APP_ID = "11111111-2222-3333-4444-555555555555"
APP_PASSWORD = "fake-app-password"  # noqa: S105 - test double
TENANT_ID = "99999999-8888-7777-6666-555555555555"
ISSUER = "https://api.botframework.com"
KID = "fake-key-1"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class FakeMicrosoft:
    port: int
    key: rsa.RSAPrivateKey = field(default_factory=new_key)
    activities: list[dict[str, Any]] = field(default_factory=list)  # received at the connector
    token_requests: list[dict[str, str]] = field(default_factory=list)
    issued_tokens: list[str] = field(default_factory=list)
    key_fetches: int = 0  # requests to the JWKS endpoint
    keys_down: bool = False  # the JWKS endpoint answers 503, as during an outage
    endorsements: tuple[str, ...] = ("msteams", "emulator")  # channels the key may sign for
    publish_private_key: bool = False  # a broken key set: the JWKS holds the private key
    refuse_activities: int = 0  # the connector answers 503 to this many next activities
    # The n-th activity request (1-based) waits hold_seconds before the connector
    # accepts it, and is dropped if its sender has gone meanwhile (killed mid-request).
    hold_activity: int | None = None
    hold_seconds: float = 5.0
    holding: threading.Event = field(default_factory=threading.Event)
    activity_requests: int = 0  # every POST to the connector, refused ones included
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def service_url(self) -> str:
        return f"{self.url}/connector/"

    def env(self) -> dict[str, str]:
        return {
            "RAKEL_TEAMS_APP_ID": APP_ID,
            "RAKEL_TEAMS_APP_PASSWORD": APP_PASSWORD,
            "RAKEL_TEAMS_TENANT_ID": TENANT_ID,
            "RAKEL_TEAMS_TOKEN_URL": f"{self.url}/{TENANT_ID}/oauth2/v2.0/token",
            "RAKEL_TEAMS_OPENID_CONFIG_URL": f"{self.url}/v1/.well-known/openidconfiguration",
        }

    # --- tokens ----------------------------------------------------------------
    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": APP_ID,
            "iat": now,
            "nbf": now - 5,
            "exp": now + 3600,
            "serviceurl": self.service_url,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, key: rsa.RSAPrivateKey | None = None, kid: str = KID, **claims: Any) -> str:
        return jwt.encode(
            self.claims(**claims), key or self.key, algorithm="RS256", headers={"kid": kid}
        )

    # --- the server --------------------------------------------------------------
    def _app(self) -> web.Application:
        async def openid(_: web.Request) -> web.Response:
            return web.json_response(
                {
                    "issuer": ISSUER,
                    "jwks_uri": f"{self.url}/keys",
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            )

        async def keys(_: web.Request) -> web.Response:
            with self._lock:
                self.key_fetches += 1
            if self.keys_down:
                return web.json_response({"error": "unavailable"}, status=503)
            published = self.key if self.publish_private_key else self.key.public_key()
            jwk = json.loads(RSAAlgorithm.to_jwk(published))
            jwk.update({"kid": KID, "use": "sig", "endorsements": list(self.endorsements)})
            return web.json_response({"keys": [jwk]})

        async def token(request: web.Request) -> web.Response:
            form = dict(await request.post())
            with self._lock:
                self.token_requests.append(form)
            if form.get("client_id") != APP_ID or form.get("client_secret") != APP_PASSWORD:
                return web.json_response({"error": "invalid_client"}, status=401)
            access = f"fake-access-{uuid.uuid4().hex}"
            with self._lock:
                self.issued_tokens.append(access)
            return web.json_response(
                {"token_type": "Bearer", "expires_in": 3599, "access_token": access}
            )

        async def activities(request: web.Request) -> web.Response:
            body = await request.json()
            with self._lock:
                self.activity_requests += 1
                number = self.activity_requests
                refuse = self.refuse_activities > 0
                if refuse:
                    self.refuse_activities -= 1
            if refuse:
                return web.json_response({"error": {"code": "ServiceError"}}, status=503)
            if number == self.hold_activity:
                self.holding.set()
                await asyncio.sleep(self.hold_seconds)
                if request.transport is None or request.transport.is_closing():
                    return web.Response(status=499)  # nobody to answer: not accepted
            with self._lock:
                self.activities.append(
                    {
                        "conversation": request.match_info["conversation"],
                        "authorization": request.headers.get("Authorization"),
                        "activity": body,
                    }
                )
            return web.json_response({"id": f"activity-{uuid.uuid4().hex[:8]}"}, status=201)

        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", openid)
        app.router.add_get("/keys", keys)
        app.router.add_post(f"/{TENANT_ID}/oauth2/v2.0/token", token)
        app.router.add_post("/connector/v3/conversations/{conversation}/activities", activities)
        return app

    def start(self) -> FakeMicrosoft:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._runner = web.AppRunner(self._app())
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", self.port)
            self._loop.run_until_complete(site.start())
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="fake-microsoft", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake Microsoft endpoints did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def replies(self, conversation: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.activities if r["conversation"] == conversation]

    def wait_replies(
        self, conversation: str, count: int = 1, timeout: float = 60
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.replies(conversation)
            if len(found) >= count:
                return found
            time.sleep(0.2)
        return self.replies(conversation)

"""Sessions, CSRF, security headers and the error page.

Scoped to the staff pages and their API (STAFF_PREFIXES) so the channel webhooks
that share this web service keep their own rules.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp_session import get_session, session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.settings import Settings
from bot.web.staff_base import render

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

STAFF_PREFIXES = (
    "/staff",
    "/login",
    "/logout",
    "/api/tickets",
    "/api/notices",
    "/api/openapi.json",
    "/static/staff",
)
COOKIE_NAME = "rakel_staff"
SESSION_MAX_AGE = 8 * 3600  # one working day; Fernet rejects older cookies too
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# No inline scripts or styles anywhere; the pages need no JavaScript at all.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def is_staff_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in STAFF_PREFIXES)


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


def session_key(settings: Settings) -> bytes:
    """32 key bytes for Fernet, derived from the `session_key` secret.

    The secret may be any high-entropy string (generated or from RAKEL_SESSION_KEY);
    HKDF turns it into exactly the 32 bytes Fernet needs, and the `info` label keeps
    this key distinct from anything else derived from the same secret.
    """
    secret = settings.secret("session_key").encode("utf-8")
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"rakel staff session cookie v1"
    ).derive(secret)


def session_storage(settings: Settings) -> EncryptedCookieStorage:
    return EncryptedCookieStorage(
        session_key(settings),
        cookie_name=COOKIE_NAME,
        max_age=SESSION_MAX_AGE,
        httponly=True,  # no script can read the session
        samesite="Lax",  # cross-site POST/PATCH never carry it
        # Only over HTTPS; RAKEL_COOKIE_SECURE=0 for plain-http development.
        secure=settings.cookie_secure,
        path="/",
    )


async def _csrf_ok(request: web.Request) -> bool:
    session = await get_session(request)
    expected = session.get("csrf")
    if not expected:
        return False
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        field = (await request.post()).get(CSRF_FIELD)
        # A file upload under the token's name is no token.
        sent = field if isinstance(field, str) else None
    # The token is ASCII (token_urlsafe); compare_digest raises TypeError on other text.
    return sent is not None and sent.isascii() and secrets.compare_digest(sent, expected)


def render_error(request: web.Request, status: int, message_key: str) -> web.Response:
    """The friendly Norwegian error page (or a JSON error for the API)."""
    if is_api_path(request.path):
        return web.json_response({"error": message_key}, status=status)
    return render(
        request, "error.html", {"status": status, "message_key": message_key}, status=status
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Never a raw traceback: log the details, show a friendly page."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status in (404, 405) and is_staff_path(request.path):
            return render_error(request, exc.status, "not_found" if exc.status == 404 else "method")
        raise
    except Exception:
        reference = secrets.token_hex(4)
        log.exception("unhandled error %s on %s %s", reference, request.method, request.path)
        if is_api_path(request.path) or not is_staff_path(request.path):
            return web.json_response(
                {"error": "internal_error", "reference": reference}, status=500
            )
        return render(
            request,
            "error.html",
            {"status": 500, "message_key": "internal", "reference": reference},
            status=500,
        )


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if is_staff_path(request.path):
            _secure_headers(exc, request.path)
        raise
    if is_staff_path(request.path):
        _secure_headers(response, request.path)
    return response


def _secure_headers(response: web.StreamResponse, path: str) -> None:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if not path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"  # pages hold personal data


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every form POST to the staff pages needs the session's token.

    The JSON API is exempt: it only accepts `application/json` bodies, which a
    cross-site form cannot send, and the SameSite=Lax cookie is not sent on
    cross-site requests anyway.
    """
    if (
        request.method in UNSAFE_METHODS
        and is_staff_path(request.path)
        and not is_api_path(request.path)
        and not await _csrf_ok(request)
    ):
        log.warning("CSRF check failed for %s %s", request.method, request.path)
        return render_error(request, 403, "csrf")
    return await handler(request)


def middlewares(settings: Settings) -> list[Middleware]:
    """In order, outermost first."""
    return [
        headers_middleware,
        error_middleware,
        session_middleware(session_storage(settings)),
        csrf_middleware,
    ]

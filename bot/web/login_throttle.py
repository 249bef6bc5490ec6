"""Login throttling for the staff pages: exponential backoff per account and address.

Failures are rows in the database (`login_failures`), so every web replica sees
the same counts. Two counts, both within `window`:

- per client address (any account): an address that keeps failing is slowed down;
- per account (any address): after `max_failures` failures each further attempt
  waits twice as long as the one before, up to `max_delay`. This count holds back
  only addresses that have failed themselves: a colleague at a clean address still
  gets in with the right password while someone else guesses at her account.

A throttled attempt is answered 429 with Retry-After at once (never a held-open
request, which would let a guesser tie up the web service) and is not counted: the
password was not even checked.

The client address is the TCP peer, or the address named in X-Forwarded-For when
the peer is one of RAKEL_TRUSTED_PROXIES. From any other peer the header is ignored:
a guesser could otherwise send a new address with every try.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from aiohttp import web
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.models import LoginFailure, utcnow

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_address(request: web.Request, trusted_proxies: Iterable[Network]) -> str:
    """The client's address: from X-Forwarded-For only when a trusted proxy sent it.

    Walks the header from the right (the entry our proxy appended) past any further
    trusted proxies; the first other address is the client. Entries left of it were
    written by the client itself and prove nothing.
    """
    proxies = tuple(trusted_proxies)
    peer = request.remote or "unknown"

    def trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return address is not None and any(address in network for network in proxies)

    if not proxies or not trusted(_ip(peer)):
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        address = _ip(hop)
        if address is None:
            return peer  # a malformed entry: do not guess past it
        if not trusted(address):
            return str(address)
    return peer


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class LoginThrottle:
    max_failures: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    window: float = 15 * 60
    clock: Callable[[], datetime] = utcnow

    def delay(self, failures: int) -> float:
        """How long after the last of `failures` failures the next attempt must wait."""
        if failures < self.max_failures:
            return 0.0
        exponent = min(failures - self.max_failures, 32)  # 2**32 s is far past the cap
        return min(self.max_delay, self.base_delay * 2**exponent)

    def _wait(self, session: Session, *where: object) -> float:
        now = self.clock()
        since = now - timedelta(seconds=self.window)
        count = session.execute(
            select(func.count(LoginFailure.id)).where(LoginFailure.at > since, *where)
        ).scalar_one()
        delay = self.delay(count)
        if not delay:
            return 0.0
        last = session.execute(
            select(LoginFailure.at)
            .where(LoginFailure.at > since, *where)
            .order_by(LoginFailure.at.desc())
            .limit(1)
        ).scalar_one()
        return max(0.0, (_aware(last) + timedelta(seconds=delay) - now).total_seconds())

    def has_failed(self, session: Session, address: str) -> bool:
        since = self.clock() - timedelta(seconds=self.window)
        return (
            session.execute(
                select(LoginFailure.id)
                .where(LoginFailure.address == address, LoginFailure.at > since)
                .limit(1)
            ).first()
            is not None
        )

    def retry_after(self, session: Session, username: str, address: str) -> int:
        """Whole seconds this attempt must still wait; 0: check the password."""
        wait = self._wait(session, LoginFailure.address == address)
        if self.has_failed(session, address):
            wait = max(wait, self._wait(session, LoginFailure.username == username))
        return math.ceil(wait)

    def failed(self, session: Session, username: str, address: str) -> None:
        now = self.clock()
        # Old rows count for nothing: drop them here, so the table stays small.
        session.execute(
            delete(LoginFailure).where(LoginFailure.at <= now - timedelta(seconds=self.window))
        )
        session.add(LoginFailure(at=now, username=username, address=address[:64]))

    def succeeded(self, session: Session, username: str, address: str) -> None:
        """The account's owner got in from here: this address's failures on it are forgiven."""
        session.execute(
            delete(LoginFailure).where(
                LoginFailure.username == username, LoginFailure.address == address[:64]
            )
        )

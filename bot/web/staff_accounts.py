"""Service-desk accounts: argon2 password hashes, login checks, the first admin.

There is no default account. The first admin comes from RAKEL_ADMIN_USER /
RAKEL_ADMIN_PASSWORD when the web service starts, or from
`python -m bot.cli create-staff USER`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import StaffUser, utcnow

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
MAX_USERNAME_LENGTH = 128

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a wrong username costs as much
# time as a wrong password and response times do not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("no such user: constant-time filler")


class AccountError(ValueError):
    """A staff account cannot be created as asked; the message says why."""


def normalise_username(username: str) -> str:
    return username.strip().lower()


def create_staff(
    session: Session, username: str, password: str, *, is_admin: bool = False
) -> StaffUser:
    name = normalise_username(username)
    if not name or len(name) > MAX_USERNAME_LENGTH or any(c.isspace() for c in name):
        raise AccountError(f"username must be 1-{MAX_USERNAME_LENGTH} characters without spaces")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if session.execute(select(StaffUser.id).where(StaffUser.username == name)).first():
        raise AccountError(f"staff user {name!r} already exists")
    user = StaffUser(
        username=name,
        password_hash=_hasher.hash(password),
        is_admin=is_admin,
        active=True,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> StaffUser | None:
    """The active account for these credentials, or None. Rehashes outdated hashes."""
    name = normalise_username(username)
    user = session.execute(select(StaffUser).where(StaffUser.username == name)).scalar_one_or_none()
    if user is None or not user.active:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    return user


def active_user(session: Session, user_id: int) -> StaffUser | None:
    user = session.get(StaffUser, user_id)
    return user if user is not None and user.active else None


def bootstrap_admin(session: Session, env: Mapping[str, str] | None = None) -> str | None:
    """Create the admin named in the environment if it does not exist yet.

    Returns the username created, else None. An existing account is never changed:
    the environment is for the first start, not for resetting passwords.
    """
    env = os.environ if env is None else env
    username = (env.get("RAKEL_ADMIN_USER") or "").strip()
    password = env.get("RAKEL_ADMIN_PASSWORD") or ""
    if not username and not password:
        if session.execute(select(StaffUser.id).limit(1)).first() is None:
            log.warning(
                "no staff accounts: set RAKEL_ADMIN_USER/RAKEL_ADMIN_PASSWORD or run "
                "`python -m bot.cli create-staff USER`"
            )
        return None
    if not username or not password:
        raise AccountError("set both RAKEL_ADMIN_USER and RAKEL_ADMIN_PASSWORD, or neither")
    name = normalise_username(username)
    if session.execute(select(StaffUser.id).where(StaffUser.username == name)).first():
        return None
    create_staff(session, name, password, is_admin=True)
    log.info("created admin staff account %r from the environment", name)
    return name

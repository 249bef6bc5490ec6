"""Service-desk accounts: argon2 password hashes, login checks, sessions, the first admin.

There is no default account. The first admin comes from RAKEL_ADMIN_USER /
RAKEL_ADMIN_PASSWORD when the web service starts, or from
`python -m bot.cli create-staff USER`; admins add and deactivate accounts at
/staff/accounts.
"""

from __future__ import annotations

import logging

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.models import StaffUser, utcnow
from bot.settings import Settings

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
MAX_USERNAME_LENGTH = 128

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a wrong username costs as much
# time as a wrong password and response times do not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("no such user: constant-time filler")


class AccountError(ValueError):
    """A staff account cannot be created or changed as asked; the message says why.

    `code` names the reason for the Norwegian text of the account pages (labels.yml).
    """

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


def normalise_username(username: str) -> str:
    return username.strip().lower()


def create_staff(
    session: Session, username: str, password: str, *, is_admin: bool = False
) -> StaffUser:
    name = normalise_username(username)
    if not name or len(name) > MAX_USERNAME_LENGTH or any(c.isspace() for c in name):
        raise AccountError(
            f"username must be 1-{MAX_USERNAME_LENGTH} characters without spaces", "username"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters", "password"
        )
    if session.execute(select(StaffUser.id).where(StaffUser.username == name)).first():
        raise AccountError(f"staff user {name!r} already exists", "exists")
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


def active_user(session: Session, user_id: int, session_version: object) -> StaffUser | None:
    """The account a session cookie belongs to, if it is active and the cookie current.

    A cookie issued before the account's last logout or deactivation carries an
    older session version and opens nothing.
    """
    user = session.get(StaffUser, user_id)
    if user is None or not user.active or user.session_version != session_version:
        return None
    return user


def end_sessions(session: Session, user_id: int) -> None:
    """Every cookie issued to this account so far stops working."""
    session.execute(
        update(StaffUser)
        .where(StaffUser.id == user_id)
        .values(session_version=StaffUser.session_version + 1)
    )


def list_staff(session: Session) -> list[StaffUser]:
    return list(session.execute(select(StaffUser).order_by(StaffUser.username)).scalars())


def set_active(session: Session, user_id: int, active: bool, *, by: int) -> StaffUser:
    """Activate or deactivate an account; deactivation ends its sessions at once."""
    if user_id == by and not active:
        raise AccountError("you cannot deactivate your own account", "own_account")
    user = session.get(StaffUser, user_id)
    if user is None:
        raise AccountError("no such staff account", "not_found")
    user.active = active
    if not active:
        user.session_version += 1
    return user


def bootstrap_admin(session: Session, settings: Settings) -> str | None:
    """Create the admin named in the settings if it does not exist yet.

    Returns the username created, else None. An existing account is never changed:
    the environment is for the first start, not for resetting passwords.
    """
    username = settings.admin_user or ""
    password = settings.admin_password or ""
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

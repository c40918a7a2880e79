"""Local accounts: create, disable, list, and log in with argon2 hashes and a back-off on failures."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..domain.errors import Conflict, GolError, NotFound
from ..domain.model import Actor
from . import authorization
from .runtime import Runtime

FREE_ATTEMPTS = 5
MAX_LOCK = timedelta(hours=1)
MIN_PASSWORD_LENGTH = 10

_HASHER = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified when the username does not exist, so both paths cost the same time."""
    return _HASHER.hash(secrets.token_urlsafe(16))


class LoginFailed(GolError):
    """Wrong username or password (the message never says which)."""


class AccountLocked(GolError):
    """Too many failures: the account waits until `until`."""

    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


@dataclass(frozen=True)
class User:
    """A user as the web and CLI show it (never the hash)."""

    id: int
    username: str
    full_name: str | None
    role: str
    zones: tuple[str, ...]
    services: tuple[str, ...]
    active: bool
    last_login_at: datetime | None

    def actor(self) -> Actor:
        """The actor on whose behalf this user's requests run."""
        return Actor(self.username, self.role, frozenset(self.zones), frozenset(self.services), self.id)


def _user(row: Mapping[str, Any]) -> User:
    return User(
        id=int(row["id"]),
        username=row["username"],
        full_name=row["full_name"],
        role=row["role"],
        zones=tuple(row["zones"] or ()),
        services=tuple(row["services"] or ()),
        active=bool(row["active"]),
        last_login_at=row["last_login_at"],
    )


def generate_password() -> str:
    """A random password that is easy to copy (about 96 bits)."""
    return secrets.token_urlsafe(12)


def _check_new(rt: Runtime, username: str, role: str, zones: Iterable[str], password: str) -> None:
    if not username or len(username) > 150 or any(c.isspace() or not c.isprintable() for c in username):
        raise GolError("username must be 1-150 characters without spaces")
    if role not in authorization.ROLES:
        raise GolError(f"unknown role {role!r} (one of {', '.join(authorization.ROLES)})")
    unknown = [z for z in zones if rt.zones and z not in rt.zones]
    if unknown:
        raise GolError(f"unknown zone(s): {', '.join(unknown)} (known: {', '.join(sorted(rt.zones))})")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise GolError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def add_user(
    rt: Runtime,
    username: str,
    role: str,
    actor: Actor,
    zones: Iterable[str] = (),
    services: Iterable[str] = (),
    password: str | None = None,
    full_name: str | None = None,
) -> tuple[User, str | None]:
    """Create an account; returns it and the generated password when none was given."""
    authorization.require_admin(actor)
    generated = None if password else generate_password()
    secret = password or generated or ""
    zones, services = sorted(set(zones)), sorted(set(services))
    _check_new(rt, username, role, zones, secret)
    if full_name is not None and (len(full_name) > 255 or any(ord(c) < 0x20 or ord(c) == 0x7F for c in full_name)):
        raise GolError("the full name must be one line of at most 255 characters, without control characters")
    now = rt.now()
    with rt.uow() as uow:
        if uow.users.by_username(username) is not None:
            raise Conflict(f"user {username!r} already exists")
        user_id = uow.users.add({
            "username": username, "full_name": full_name, "password_hash": _HASHER.hash(secret), "role": role,
            "zones": zones, "services": services, "active": True, "failed_logins": 0, "created_at": now,
        })
        uow.audit.record(now, actor.username, "user.created", data={"user": username, "role": role, "zones": zones})
        row = uow.users.get(user_id)
        uow.commit()
    assert row is not None
    return _user(row), generated


def set_active(rt: Runtime, username: str, active: bool, actor: Actor) -> User:
    """Disable (or enable again) an account; a disabled user cannot log in and loses open sessions."""
    authorization.require_admin(actor)
    now = rt.now()
    with rt.uow() as uow:
        row = uow.users.by_username(username)
        if row is None:
            raise NotFound(f"user {username!r} does not exist")
        uow.users.update(row["id"], {"active": active})
        uow.audit.record(now, actor.username, "user.enabled" if active else "user.disabled", data={"user": username})
        row = uow.users.get(row["id"])
        uow.commit()
    assert row is not None
    return _user(row)


def list_users(rt: Runtime, actor: Actor) -> list[User]:
    """Every account."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        return [_user(row) for row in uow.users.list_all()]


def find_user(rt: Runtime, username: str) -> User | None:
    """One account by username (None when missing)."""
    with rt.uow(write=False) as uow:
        row = uow.users.by_username(username)
    return _user(row) if row is not None else None


def active_user(rt: Runtime, user_id: int) -> User | None:
    """The account behind a session, if it still exists and is active."""
    with rt.uow(write=False) as uow:
        row = uow.users.get(user_id)
    if row is None or not row["active"]:
        return None
    return _user(row)


def lock_delay(failures: int) -> timedelta | None:
    """How long an account waits after this many consecutive failures (doubling, capped)."""
    if failures < FREE_ATTEMPTS:
        return None
    return min(timedelta(minutes=1) * (2 ** (failures - FREE_ATTEMPTS)), MAX_LOCK)


def authenticate(rt: Runtime, username: str, password: str, remote: str | None = None) -> User:
    """Check a login; counts failures and locks the account for a growing delay."""
    now = rt.now()
    with rt.uow() as uow:
        row = uow.users.by_username(username)
        if row is None or not row["active"] or not row["password_hash"]:
            _verify(_dummy_hash(), password)
            uow.audit.record(now, username[:255], "user.login_failed", data={"reason": "unknown", "remote": remote})
            uow.commit()
            raise LoginFailed("Nome utente o password non corretti.")
        if row["locked_until"] is not None and row["locked_until"] > now:
            raise AccountLocked("Troppi tentativi falliti: account temporaneamente bloccato.", row["locked_until"])
        if not _verify(row["password_hash"], password):
            failures = int(row["failed_logins"] or 0) + 1
            delay = lock_delay(failures)
            uow.users.update(row["id"], {"failed_logins": failures, "locked_until": now + delay if delay else None})
            uow.audit.record(now, username, "user.login_failed", data={"failures": failures, "remote": remote})
            uow.commit()
            raise LoginFailed("Nome utente o password non corretti.")
        if _HASHER.check_needs_rehash(row["password_hash"]):
            uow.users.update(row["id"], {"password_hash": _HASHER.hash(password)})
        uow.users.record_login(row["id"], now)
        uow.audit.record(now, username, "user.login", data={"remote": remote})
        row = uow.users.get(row["id"])
        uow.commit()
    assert row is not None
    return _user(row)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def record_logout(rt: Runtime, actor: Actor) -> None:
    """Note a logout in the audit log."""
    with rt.uow() as uow:
        uow.audit.record(rt.now(), actor.username, "user.logout")
        uow.commit()


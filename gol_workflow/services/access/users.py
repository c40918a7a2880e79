"""Accounts, local or of the identity provider: create, change, enable, disable, list; local logins, throttled."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ...domain.errors import Conflict, GolError, NotFound
from ...domain.model import Actor
from ...persistence.uow import UnitOfWork
from . import authorization, login_throttle
from .login_throttle import LoginThrottled  # noqa: F401 - authenticate raises it; callers catch it here
from ..workflow.runtime import Runtime

MIN_PASSWORD_LENGTH = 10
FAILED = "Nome utente o password non corretti."

_HASHER = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified when the username does not exist, so both paths cost the same time."""
    return _HASHER.hash(secrets.token_urlsafe(16))


class LoginFailed(GolError):
    """Wrong username or password (the message never says which)."""


class LocalLoginDisabled(LoginFailed):
    """The password was right, but local accounts log in only for administrators here (GOL_LOCAL_LOGIN=admins)."""


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
    email: str | None = None
    pending: bool = False  # known through single sign-on, waiting for an administrator to give a role
    single_sign_on: bool = False  # logs in through the region's identity provider

    def actor(self) -> Actor:
        """The actor on whose behalf this user's requests run."""
        return Actor(self.username, self.role, frozenset(self.zones), frozenset(self.services), self.id)


def user_from_row(row: Mapping[str, Any]) -> User:
    return User(
        id=int(row["id"]),
        username=row["username"],
        full_name=row["full_name"],
        role=row["role"],
        zones=tuple(row["zones"] or ()),
        services=tuple(row["services"] or ()),
        active=bool(row["active"]),
        last_login_at=row["last_login_at"],
        email=row.get("email"),
        pending=bool(row.get("pending")),
        single_sign_on=row.get("oidc_subject") is not None,
    )


def generate_password() -> str:
    """A random password that is easy to copy (about 96 bits)."""
    return secrets.token_urlsafe(12)


def _check_new(rt: Runtime, username: str, role: str, zones: Iterable[str], password: str) -> None:
    if not username or len(username) > 150 or any(c.isspace() or not c.isprintable() for c in username):
        raise GolError("username must be 1-150 characters without spaces")
    _check_role_and_zones(rt, role, zones)
    _check_password(password)


def _check_role_and_zones(rt: Runtime, role: str, zones: Iterable[str]) -> None:
    if role not in authorization.role_names():
        raise GolError(f"unknown role {role!r} (one of {', '.join(authorization.role_names())})")
    unknown = [z for z in zones if rt.zones and z not in rt.zones]
    if unknown:
        raise GolError(f"unknown zone(s): {', '.join(unknown)} (known: {', '.join(sorted(rt.zones))})")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise GolError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def _existing(uow: UnitOfWork, username: str) -> Mapping[str, Any]:
    row = uow.users.by_username(username)
    if row is None:
        raise NotFound(f"user {username!r} does not exist")
    return row


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
    return user_from_row(row), generated


def set_active(rt: Runtime, username: str, active: bool, actor: Actor) -> User:
    """Disable (or enable again) an account; a disabled user cannot log in and loses open sessions."""
    authorization.require_admin(actor)
    now = rt.now()
    with rt.uow() as uow:
        row = _existing(uow, username)
        uow.users.update(row["id"], {"active": active})
        ended = 0 if active else uow.sessions.end_for_user(row["id"])
        uow.audit.record(now, actor.username, "user.enabled" if active else "user.disabled",
                         data={"user": username, "sessions_ended": ended})
        row = uow.users.get(row["id"])
        uow.commit()
    assert row is not None
    return user_from_row(row)


def set_password(rt: Runtime, username: str, password: str | None, actor: Actor) -> tuple[User, str | None]:
    """Give an account a new password (generated when None, and returned); its open sessions end."""
    authorization.require_admin(actor)
    generated = None if password else generate_password()
    secret = password or generated or ""
    _check_password(secret)
    hashed = _HASHER.hash(secret)
    with rt.uow() as uow:
        row = _existing(uow, username)
        uow.users.update(row["id"], {"password_hash": hashed})
        ended = uow.sessions.end_for_user(row["id"])
        uow.audit.record(rt.now(), actor.username, "user.password_changed",
                         data={"user": username, "sessions_ended": ended})
        row = uow.users.get(row["id"])
        uow.commit()
    assert row is not None
    return user_from_row(row), generated


def change_access(rt: Runtime, username: str, actor: Actor, role: str | None = None,
                  zones: Iterable[str] | None = None, services: Iterable[str] | None = None) -> User:
    """Change an account's role, zones or services; when anything changed, its open sessions end."""
    authorization.require_admin(actor)
    with rt.uow() as uow:
        row = _existing(uow, username)
        values: dict[str, Any] = {}
        if role is not None and role != row["role"]:
            values["role"] = role
        if zones is not None and sorted(set(zones)) != sorted(row["zones"] or ()):
            values["zones"] = sorted(set(zones))
        if services is not None and sorted(set(services)) != sorted(row["services"] or ()):
            values["services"] = sorted(set(services))
        _check_role_and_zones(rt, values.get("role", row["role"]), values.get("zones", ()))
        if values:
            uow.users.update(row["id"], values)
            ended = uow.sessions.end_for_user(row["id"])
            uow.audit.record(rt.now(), actor.username, "user.access_changed",
                             data={"user": username, **values, "sessions_ended": ended})
        row = uow.users.get(row["id"])
        uow.commit()
    assert row is not None
    return user_from_row(row)


def enable_pending(rt: Runtime, username: str, role: str, zones: Iterable[str], actor: Actor,
                   services: Iterable[str] = ()) -> User:
    """Give a person who logged in through single sign-on a role and zones: the account becomes active."""
    authorization.require_admin(actor)
    zones, services = sorted(set(zones)), sorted(set(services))
    _check_role_and_zones(rt, role, zones)
    with rt.uow() as uow:
        row = _existing(uow, username)
        if not row["pending"]:
            raise Conflict(f"user {username!r} is not waiting to be enabled")
        uow.users.update(row["id"], {"role": role, "zones": zones, "services": services, "active": True,
                                     "pending": False})
        uow.audit.record(rt.now(), actor.username, "user.enabled",
                         data={"user": username, "role": role, "zones": zones, "services": services})
        row = uow.users.get(row["id"])
        uow.commit()
    assert row is not None
    return user_from_row(row)


def end_sessions(rt: Runtime, username: str, actor: Actor) -> int:
    """End every open web session of an account (administrators); returns how many ended."""
    authorization.require_admin(actor)
    with rt.uow() as uow:
        row = _existing(uow, username)
        ended = uow.sessions.end_for_user(row["id"])
        uow.audit.record(rt.now(), actor.username, "user.sessions_ended", data={"user": username, "count": ended})
        uow.commit()
    return ended


def list_users(rt: Runtime, actor: Actor) -> list[User]:
    """Every account."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        return [user_from_row(row) for row in uow.users.list_all()]


def find_user(rt: Runtime, username: str) -> User | None:
    """One account by username (None when missing)."""
    with rt.uow(write=False) as uow:
        row = uow.users.by_username(username)
    return user_from_row(row) if row is not None else None


def active_user(rt: Runtime, user_id: int) -> User | None:
    """The account behind a session, if it still exists and is active."""
    with rt.uow(write=False) as uow:
        row = uow.users.get(user_id)
    if row is None or not row["active"]:
        return None
    return user_from_row(row)


def authenticate(rt: Runtime, username: str, password: str, remote: str | None = None) -> User:
    """Check a login behind the throttle; existing and unknown usernames cost and answer the same."""
    now = rt.now()
    key, address = login_throttle.username_key(username), login_throttle.address_key(remote)
    with rt.uow() as uow:
        attempt = login_throttle.admit(uow, rt.settings, key, address, rt.wall_now())
        row = uow.users.by_username(username)
        uow.commit()
    usable = row is not None and bool(row["active"]) and bool(row["password_hash"])
    with login_throttle.hashing_slot(rt):  # outside any transaction: a hash must not hold SQLite's write lock
        right = _verify(row["password_hash"] if usable and row else _dummy_hash(), password) and usable
    with rt.uow() as uow:
        current = uow.users.get(row["id"]) if right and row is not None else None
        if current is None or not current["active"]:
            data: dict[str, Any] = {"remote": remote} if row is not None else {"reason": "unknown", "remote": remote}
            uow.audit.record(now, username[:255], "user.login_failed", data=data)
            uow.commit()
            raise LoginFailed(FAILED)
        if rt.settings.local_login == "admins" and current["role"] not in authorization.administrator_roles():
            uow.audit.record(now, username, "user.login_refused", data={"reason": "local_login_admins_only",
                                                                        "remote": remote})
            uow.commit()
            raise LocalLoginDisabled("local login is reserved to administrators: use single sign-on")
        login_throttle.succeeded(uow, attempt, key, address)
        if _HASHER.check_needs_rehash(current["password_hash"]):
            uow.users.update(current["id"], {"password_hash": _HASHER.hash(password)})
        uow.users.record_login(current["id"], now)
        uow.audit.record(now, username, "user.login", data={"remote": remote})
        current = uow.users.get(current["id"])
        uow.commit()
    assert current is not None
    return user_from_row(current)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False

"""Web sessions: a random id in the browser's cookie, its SHA-256 in the database, ended on the server.

A session ends at logout, after `session_idle_minutes` without requests, `session_max_hours` after
login, and whenever its account is disabled or its password, role, zones or services change.
The table is shared by every worker; `last_seen_at` is written at most once a minute.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ...domain.model import Actor
from ...persistence import sessions as session_rows
from ..workflow.runtime import Runtime
from .users import User

TOUCH_EVERY = timedelta(minutes=1)
_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)


@dataclass(frozen=True)
class OpenSession:
    """A live session as the web sees it: whose it is and what it holds."""

    id_hash: str
    user: User
    data: dict[str, Any]
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime  # the absolute end; the idle end moves with every use


def digest(token: str) -> str:
    """The SHA-256 (hex) under which a session id is stored."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def looks_like_id(value: str) -> bool:
    """Whether a cookie value has the shape of a session id (and not of an anonymous signed cookie)."""
    return bool(_SHAPE.match(value))


def idle_limit(rt: Runtime) -> timedelta:
    """How long a session may go unused."""
    return timedelta(minutes=rt.settings.session_idle_minutes)


def max_lifetime(rt: Runtime) -> timedelta:
    """How long a session may last from login, used or not."""
    return timedelta(hours=rt.settings.session_max_hours)


def start(rt: Runtime, user_id: int, data: dict[str, Any], remote: str | None = None,
          replaces: str | None = None) -> str:
    """Open a session for an account that just logged in; returns the new id (for the cookie).

    The id is always new (no fixation); the session it replaces, if any, ends.
    """
    token = secrets.token_urlsafe(32)
    now = rt.wall_now()
    with rt.uow() as uow:
        if replaces is not None:
            uow.sessions.end(replaces)
        uow.sessions.purge_expired(now - idle_limit(rt), now - max_lifetime(rt))
        uow.sessions.add({"id": digest(token), "user_id": user_id, "data": data, "created_at": now,
                          "last_seen_at": now, "remote": remote})
        uow.commit()
    return token


def resume(rt: Runtime, token: str) -> OpenSession | None:
    """The live session behind a cookie; None when unknown, ended, expired or its account disabled."""
    if not looks_like_id(token):
        return None
    id_hash = digest(token)
    row = session_rows.find(rt.db, id_hash)
    if row is None:
        return None
    now = rt.wall_now()
    expires_at = row["created_at"] + max_lifetime(rt)
    if not row["active"] or now >= expires_at or now - row["last_seen_at"] >= idle_limit(rt):
        with rt.uow() as uow:
            uow.sessions.end(id_hash)
            uow.commit()
        return None
    user = User(id=int(row["user_id"]), username=row["username"], full_name=row["full_name"], role=row["role"],
                zones=tuple(row["zones"] or ()), services=tuple(row["services"] or ()), active=True,
                last_login_at=row["last_login_at"])
    return OpenSession(id_hash, user, dict(row["data"] or {}), row["created_at"], row["last_seen_at"], expires_at)


def save(rt: Runtime, opened: OpenSession, data: dict[str, Any] | None) -> bool:
    """Store changed data, or note the session's use when the last note is a minute old; True when it wrote."""
    now = rt.wall_now()
    if data is None and now - opened.last_seen_at < TOUCH_EVERY:
        return False
    with rt.uow() as uow:
        uow.sessions.touch(opened.id_hash, now, data)
        uow.commit()
    return True


def logout(rt: Runtime, id_hash: str, actor: Actor) -> None:
    """End one session on the server (its cookie stops working everywhere) and note the logout."""
    with rt.uow() as uow:
        uow.sessions.end(id_hash)
        uow.audit.record(rt.now(), actor.username, "user.logout")
        uow.commit()

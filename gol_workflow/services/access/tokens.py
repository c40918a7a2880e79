"""API access tokens: issued once to an account, stored only as a SHA-256, revocable."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ...domain.errors import GolError, NotFound
from ...domain.model import Actor
from ...persistence.tokens import find_by_hash
from ...persistence.uow import UnitOfWork
from . import authorization
from ..workflow.runtime import Runtime

PREFIX = "gol_"
# Tokens are random (256 bits), so a fast hash is enough: there is nothing to brute-force.
_SHAPE = re.compile(r"^gol_[A-Za-z0-9_-]{43}$")
# `last_used_at` is refreshed at most this often, so most API calls write nothing for it.
TOUCH_EVERY = timedelta(minutes=5)
MAX_LABEL = 100


@dataclass(frozen=True)
class IssuedToken:
    """A new token: `secret` is shown once and never stored."""

    id: int
    username: str
    secret: str


@dataclass(frozen=True)
class TokenInfo:
    """A token as listings show it (never the secret or its hash)."""

    id: int
    label: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def digest(secret: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _account(uow: UnitOfWork, username: str) -> Any:
    row = uow.users.by_username(username)
    if row is None:
        raise NotFound(f"user {username!r} does not exist")
    return row


def issue_token(rt: Runtime, username: str, actor: Actor, label: str | None = None) -> IssuedToken:
    """Create a token for an active account (administrators only); the secret is returned once."""
    authorization.require_admin(actor)
    if label is not None and len(label) > MAX_LABEL:
        raise GolError(f"the label may have at most {MAX_LABEL} characters")
    secret = PREFIX + secrets.token_urlsafe(32)
    now = rt.now()
    with rt.uow() as uow:
        row = _account(uow, username)
        if not row["active"]:
            raise GolError(f"user {username!r} is disabled: enable the account before issuing a token")
        token_id = uow.tokens.add({"user_id": row["id"], "token_hash": digest(secret), "label": label,
                                   "created_at": now})
        uow.audit.record(now, actor.username, "token.issued", data={"user": username, "token": token_id,
                                                                     "label": label})
        uow.commit()
    return IssuedToken(token_id, username, secret)


def list_tokens(rt: Runtime, username: str, actor: Actor) -> list[TokenInfo]:
    """Every token of an account, newest first (administrators only)."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        rows = uow.tokens.for_user(_account(uow, username)["id"])
    return [TokenInfo(r["id"], r["label"], r["created_at"], r["last_used_at"], r["revoked_at"]) for r in rows]


def revoke_tokens(rt: Runtime, username: str, actor: Actor, token_id: int | None = None) -> int:
    """Revoke one token of an account, or all of them; returns how many were revoked."""
    authorization.require_admin(actor)
    now = rt.now()
    with rt.uow() as uow:
        row = _account(uow, username)
        count = uow.tokens.revoke(row["id"], token_id, now)
        if token_id is not None and count == 0:
            raise NotFound(f"user {username!r} has no active token {token_id}")
        uow.audit.record(now, actor.username, "token.revoked", data={"user": username, "token": token_id,
                                                                      "count": count})
        uow.commit()
    return count


def authenticate(rt: Runtime, secret: str) -> Actor | None:
    """The account a token acts for; None for a malformed, unknown or revoked token or a disabled account."""
    if not _SHAPE.match(secret):
        return None
    row = find_by_hash(rt.db, digest(secret))
    if row is None:
        return None
    now = rt.now()
    if row["last_used_at"] is None or now - row["last_used_at"] >= TOUCH_EVERY:
        with rt.uow() as uow:
            uow.tokens.touch(row["id"], now)
            uow.commit()
    return Actor(row["username"], row["role"], frozenset(row["zones"] or ()), frozenset(row["services"] or ()),
                 int(row["user_id"]))

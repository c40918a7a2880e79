"""User accounts (operators, administrators, analysts): local, or of the region's identity provider."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from .tables import users


class UserRepository:
    """Reads and writes user rows; passwords arrive already hashed."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, user_id: int) -> RowMapping | None:
        """One user by id."""
        return self.conn.execute(select(users).where(users.c.id == user_id)).mappings().first()

    def by_username(self, username: str) -> RowMapping | None:
        """One user by login name."""
        return self.conn.execute(select(users).where(users.c.username == username)).mappings().first()

    def by_identity(self, issuer: str, subject: str) -> RowMapping | None:
        """The account of one person of an identity provider."""
        stmt = select(users).where(users.c.oidc_issuer == issuer, users.c.oidc_subject == subject)
        return self.conn.execute(stmt).mappings().first()

    def unlinked_by_email(self, email: str) -> Sequence[RowMapping]:
        """Accounts with this e-mail address (any case) not yet tied to an identity provider."""
        stmt = select(users).where(func.lower(users.c.email) == email.lower(), users.c.oidc_subject.is_(None))
        return self.conn.execute(stmt).mappings().all()

    def add(self, values: dict[str, Any]) -> int:
        """Create a user; returns its id."""
        result = self.conn.execute(insert(users).values(**values))
        return int(result.inserted_primary_key[0])

    def update(self, user_id: int, values: dict[str, Any]) -> bool:
        """Change some columns of a user."""
        return self.conn.execute(update(users).where(users.c.id == user_id).values(**values)).rowcount == 1

    def list_all(self) -> Sequence[RowMapping]:
        """Every user, by username."""
        return self.conn.execute(select(users).order_by(users.c.username)).mappings().all()

    def active_with_role(self, role: str) -> Sequence[RowMapping]:
        """Active users of one role (zones are filtered by the caller: they are JSON)."""
        stmt = select(users).where(users.c.role == role, users.c.active.is_(True)).order_by(users.c.username)
        return self.conn.execute(stmt).mappings().all()

    def record_login(self, user_id: int, at: datetime) -> None:
        """A successful login resets the failure counter."""
        self.update(user_id, {"failed_logins": 0, "locked_until": None, "last_login_at": at})

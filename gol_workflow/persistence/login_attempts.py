"""Recent login attempts, counted by client address and by the username typed (as a hash)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, case, delete, func, insert, or_, select, text, type_coerce, update

from .tables import login_attempts as attempts
from . import write_behind
from .types import UtcDateTime


@dataclass(frozen=True)
class FailureCounts:
    """Failures since a moment, and the oldest of each kind (when the count will start to drop)."""

    address: int
    pair: int
    username: int
    oldest_address: datetime | None
    oldest_pair: datetime | None


class LoginAttemptRepository:
    """Reads and writes login attempt rows."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def serialize(self, address: str) -> None:
        """Make concurrent attempts from one address take turns until commit (SQLite's write lock already does)."""
        if self.conn.dialect.name != "postgresql":
            return
        pending = write_behind.active(self.conn)
        if pending is not None:
            pending.flush()  # open the transaction: the lock lasts until its end
        self.conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": "gol-login:" + address})

    def failures_since(self, since: datetime, username_key: str, address: str) -> FailureCounts:
        """Failures from this address, for this username from this address, and for this username anywhere."""
        from_address = attempts.c.address == address
        for_username = attempts.c.username_key == username_key
        pair = and_(from_address, for_username)
        stmt = select(
            func.count(case((from_address, 1))),
            func.count(case((pair, 1))),
            func.count(case((for_username, 1))),
            type_coerce(func.min(case((from_address, attempts.c.at))), UtcDateTime()),
            type_coerce(func.min(case((pair, attempts.c.at))), UtcDateTime()),
        ).where(attempts.c.at >= since, attempts.c.succeeded.is_(False), or_(from_address, for_username))
        row = self.conn.execute(stmt).one()
        return FailureCounts(int(row[0]), int(row[1]), int(row[2]), row[3], row[4])

    def succeeded_since(self, since: datetime, username_key: str, address: str) -> bool:
        """Whether this username logged in from this address since a moment (a known address)."""
        stmt = select(attempts.c.id).where(attempts.c.username_key == username_key, attempts.c.address == address,
                                           attempts.c.succeeded.is_(True), attempts.c.at >= since).limit(1)
        return self.conn.execute(stmt).first() is not None

    def add(self, at: datetime, username_key: str, address: str, succeeded: bool = False) -> int:
        """Record an attempt; returns its id."""
        result = self.conn.execute(insert(attempts).values(at=at, username_key=username_key, address=address,
                                                           succeeded=succeeded))
        return int(result.inserted_primary_key[0])

    def mark_succeeded(self, attempt_id: int, username_key: str, address: str) -> None:
        """The attempt succeeded: it and the earlier failures of this username from this address stop counting."""
        self.conn.execute(update(attempts).where(attempts.c.id == attempt_id).values(succeeded=True))
        self.conn.execute(delete(attempts).where(attempts.c.username_key == username_key,
                                                 attempts.c.address == address, attempts.c.succeeded.is_(False)))

    def purge(self, failures_before: datetime, successes_before: datetime) -> None:
        """Forget failures older than the window and successes older than the known-address period."""
        self.conn.execute(delete(attempts).where(
            attempts.c.at < failures_before,
            or_(attempts.c.succeeded.is_(False), attempts.c.at < successes_before),
        ))


"""The e-mail outbox: messages wait here until the mail server has accepted them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .tables import outbox

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
EXPIRED = "expired"
WAITING = (PENDING, SENDING)


def _alive(now: datetime) -> Any:
    return outbox.c.expires_at.is_(None) | (outbox.c.expires_at > now)


class OutboxRepository:
    """Queues, claims and settles outgoing messages."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect

    def enqueue(self, values: dict[str, Any]) -> tuple[int, bool]:
        """Queue a message once per `dedup_key`; returns its id and whether it is new."""
        dialect_insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        stmt = dialect_insert(outbox).values(**values).on_conflict_do_nothing(index_elements=["dedup_key"])
        created = self.conn.execute(stmt).rowcount == 1
        row_id = self.conn.execute(select(outbox.c.id).where(outbox.c.dedup_key == values["dedup_key"])).scalar_one()
        return int(row_id), created

    def get(self, message_id: int) -> RowMapping | None:
        """One message."""
        return self.conn.execute(select(outbox).where(outbox.c.id == message_id)).mappings().first()

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> Sequence[RowMapping]:
        """Take messages due for an attempt (and stale sends) and mark them as being sent until `lease_until`."""
        stmt = (
            select(outbox.c.id)
            .where(outbox.c.status.in_(WAITING), outbox.c.next_attempt_at <= now, _alive(now))
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        ids = list(self.conn.execute(stmt).scalars())
        if not ids:
            return []
        self.conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids))
            .values(status=SENDING, attempts=outbox.c.attempts + 1, next_attempt_at=lease_until)
        )
        rows = self.conn.execute(select(outbox).where(outbox.c.id.in_(ids))).mappings().all()
        return sorted(rows, key=lambda r: ids.index(r["id"]))

    def expire_due(self, now: datetime, limit: int) -> Sequence[RowMapping]:
        """Give up messages whose expiry has come (a send in progress is left to finish); returns them."""
        stmt = (
            select(outbox.c.id, outbox.c.subject, outbox.c.recipients, outbox.c.attempts, outbox.c.expires_at)
            .where(outbox.c.status.in_(WAITING), outbox.c.expires_at <= now)
            .where((outbox.c.status == PENDING) | (outbox.c.next_attempt_at <= now))
            .order_by(outbox.c.expires_at, outbox.c.id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = self.conn.execute(stmt).mappings().all()
        if rows:
            self.conn.execute(
                update(outbox).where(outbox.c.id.in_([row["id"] for row in rows])).values(status=EXPIRED,
                                                                                          next_attempt_at=None)
            )
        return rows

    def settle(self, message_id: int, attempt: int, values: dict[str, Any]) -> bool:
        """Record the outcome of an attempt, unless another sender has taken the message since."""
        stmt = (
            update(outbox)
            .where(outbox.c.id == message_id, outbox.c.status == SENDING, outbox.c.attempts == attempt)
            .values(**values)
        )
        return self.conn.execute(stmt).rowcount == 1

    def earliest_due(self) -> datetime | None:
        """When the next attempt (or expiry) is due."""
        attempt = select(func.min(outbox.c.next_attempt_at)).where(outbox.c.status.in_(WAITING))
        expiry = select(func.min(outbox.c.expires_at)).where(outbox.c.status == PENDING)
        found = [self.conn.execute(attempt).scalar(), self.conn.execute(expiry).scalar()]
        return min((moment for moment in found if moment is not None), default=None)

    def waiting(self, limit: int) -> Sequence[RowMapping]:
        """Messages waiting for an attempt, soonest first (without bodies and attachments)."""
        columns = [c for c in outbox.c if c.name not in ("body", "attachments")]
        stmt = (
            select(*columns)
            .where(outbox.c.status.in_(WAITING), outbox.c.next_attempt_at.is_not(None))
            .order_by(outbox.c.next_attempt_at)
            .limit(limit)
        )
        return self.conn.execute(stmt).mappings().all()

    def listing(self, statuses: Sequence[str] | None, limit: int, offset: int = 0) -> Sequence[RowMapping]:
        """Messages newest first, optionally of some statuses (without bodies and attachments)."""
        columns = [c for c in outbox.c if c.name not in ("body", "attachments")]
        stmt = select(*columns).order_by(outbox.c.id.desc()).limit(limit).offset(offset)
        if statuses:
            stmt = stmt.where(outbox.c.status.in_(list(statuses)))
        return self.conn.execute(stmt).mappings().all()

    def counts(self) -> dict[str, int]:
        """How many messages are in each status."""
        stmt = select(outbox.c.status, func.count()).group_by(outbox.c.status)
        return {row[0]: int(row[1]) for row in self.conn.execute(stmt)}

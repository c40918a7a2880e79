"""Batch operations: a job row with progress and one row per instance with its outcome."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, or_, select, update

from .tables import batch_items, batch_jobs

QUEUED = "queued"
RUNNING = "running"
FINISHED = "finished"
CANCELLED = "cancelled"
PENDING = "pending"
OPEN_JOBS = (QUEUED, RUNNING)


class BatchRepository:
    """Creates, claims and records batch jobs."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect

    def add(self, job: dict[str, Any], instance_ids: Sequence[str]) -> None:
        """Store a job and its items (all pending)."""
        self.conn.execute(insert(batch_jobs).values(**job))
        rows = [{"batch_id": job["id"], "position": n, "instance_id": iid, "status": PENDING}
                for n, iid in enumerate(instance_ids)]
        for start in range(0, len(rows), 5000):
            self.conn.execute(insert(batch_items), rows[start:start + 5000])

    def get(self, batch_id: str) -> RowMapping | None:
        """One job."""
        return self.conn.execute(select(batch_jobs).where(batch_jobs.c.id == batch_id)).mappings().first()

    def recent(self, limit: int) -> Sequence[RowMapping]:
        """The latest jobs, newest first."""
        stmt = select(batch_jobs).order_by(batch_jobs.c.created_at.desc(), batch_jobs.c.id).limit(limit)
        return self.conn.execute(stmt).mappings().all()

    def claim(self, wall_now: datetime, lease_until: datetime) -> RowMapping | None:
        """Take the oldest open job nobody holds, until `lease_until`."""
        stmt = (
            select(batch_jobs.c.id)
            .where(batch_jobs.c.status.in_(OPEN_JOBS),
                   or_(batch_jobs.c.lease_until.is_(None), batch_jobs.c.lease_until < wall_now))
            .order_by(batch_jobs.c.created_at, batch_jobs.c.id)
            .limit(1)
        )
        if self.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        batch_id = self.conn.execute(stmt).scalar()
        if batch_id is None:
            return None
        self.conn.execute(update(batch_jobs).where(batch_jobs.c.id == batch_id).values(
            status=RUNNING, lease_until=lease_until, started_at=func.coalesce(batch_jobs.c.started_at, wall_now)))
        return self.get(batch_id)

    def release(self, batch_id: str) -> None:
        """Let another pass (or worker) continue the job."""
        self.conn.execute(update(batch_jobs).where(batch_jobs.c.id == batch_id).values(lease_until=None))

    def pending(self, batch_id: str, limit: int) -> Sequence[RowMapping]:
        """The next items still to do, in order."""
        stmt = (
            select(batch_items)
            .where(batch_items.c.batch_id == batch_id, batch_items.c.status == PENDING)
            .order_by(batch_items.c.position)
            .limit(limit)
        )
        return self.conn.execute(stmt).mappings().all()

    def record(self, batch_id: str, position: int, values: dict[str, Any], results: dict[str, int]) -> bool:
        """Store one item's outcome and count it; False when it was already recorded (or the job was cancelled)."""
        done = self.conn.execute(
            update(batch_items)
            .where(batch_items.c.batch_id == batch_id, batch_items.c.position == position,
                   batch_items.c.status == PENDING)
            .values(**values)
        ).rowcount == 1
        if done:
            self.conn.execute(update(batch_jobs).where(batch_jobs.c.id == batch_id).values(
                done=batch_jobs.c.done + 1, results=results))
        return done

    def finish(self, batch_id: str, status: str, at: datetime, results: dict[str, int] | None = None) -> None:
        """Close a job (with its final counts when given)."""
        values: dict[str, Any] = {"status": status, "finished_at": at, "lease_until": None}
        if results is not None:
            values["results"] = results
        self.conn.execute(update(batch_jobs).where(batch_jobs.c.id == batch_id).values(**values))

    def skip_pending(self, batch_id: str, at: datetime, message: str) -> int:
        """Mark every item not done yet as skipped; returns how many."""
        return self.conn.execute(
            update(batch_items)
            .where(batch_items.c.batch_id == batch_id, batch_items.c.status == PENDING)
            .values(status="skipped", code="cancelled", message=message, done_at=at)
        ).rowcount

    def counts(self, batch_id: str) -> dict[str, int]:
        """Items per status."""
        stmt = (select(batch_items.c.status, func.count()).where(batch_items.c.batch_id == batch_id)
                .group_by(batch_items.c.status))
        return {row[0]: int(row[1]) for row in self.conn.execute(stmt)}

    def items(self, batch_id: str, status: str | None, limit: int, offset: int) -> Sequence[RowMapping]:
        """Items in order, optionally of one status."""
        stmt = select(batch_items).where(batch_items.c.batch_id == batch_id)
        if status:
            stmt = stmt.where(batch_items.c.status == status)
        stmt = stmt.order_by(batch_items.c.position).limit(limit).offset(offset)
        return self.conn.execute(stmt).mappings().all()

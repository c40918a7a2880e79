"""Process instances: state, status, projections and the timer index."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Delete, RowMapping, Select, bindparam, delete, func, insert, select, update

from . import committed
from .archive import archived_state_of
from .fastpath import HotPath
from .tables import INSTANCE_HEADER, instances, pending_messages, subscriptions


# Statements on the hot path are built once (on first use) and executed with parameters:
# SQLAlchemy then reuses their cache keys and compiled forms instead of rebuilding them.
@cache
def _header_stmt(lock: bool) -> Select[Any]:
    stmt = select(*INSTANCE_HEADER).where(instances.c.id == bindparam("b_id"))
    return stmt.with_for_update() if lock else stmt


@cache
def _state_stmt() -> Select[Any]:
    # An archived instance's state is in the archive table: the subquery runs only for those.
    state = func.coalesce(func.nullif(instances.c.state, ""), archived_state_of(instances.c.id))
    return select(state.label("state")).where(instances.c.id == bindparam("b_id"))


@cache
def _buffered_by_correlation_stmt() -> Select[Any]:
    return (
        select(pending_messages)
        .where(pending_messages.c.correlation == bindparam("b_correlation"))
        .order_by(pending_messages.c.id)
    )


@cache
def _delete_subscription_stmt() -> Delete:
    return delete(subscriptions).where(
        subscriptions.c.instance_id == bindparam("b_instance"),
        subscriptions.c.name == bindparam("b_name"),
        subscriptions.c.correlation == bindparam("b_correlation"),
    )


def _unleased(now: datetime) -> Any:
    return instances.c.claimed_until.is_(None) | (instances.c.claimed_until <= now)


@cache
def _oldest_buffered_stmt() -> Select[Any]:
    """The oldest buffered message for one subscription (built once: every new subscription looks)."""
    return (select(pending_messages)
            .where(pending_messages.c.name == bindparam("b_name"), pending_messages.c.correlation == bindparam("b_correlation"))
            .order_by(pending_messages.c.id).limit(1))


class InstanceRepository:
    """Reads and writes instance rows; writes are guarded by the row version."""

    def headers_after(self, after: str, limit: int) -> list[dict[str, Any]]:
        """Whole rows but the state, by id after `after` (a batch of a walk over every instance)."""
        stmt = (select(*[c for c in instances.c if c.name != "state"])
                .where(instances.c.id > after).order_by(instances.c.id).limit(limit))
        return [dict(row) for row in self.conn.execute(stmt).mappings()]

    def __init__(self, conn: Connection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect
        self._fast = HotPath(conn)

    @staticmethod
    def blank_header() -> dict[str, Any]:
        """Every header column of an instance, each None: what a new instance starts from."""
        return {**dict.fromkeys(c.name for c in INSTANCE_HEADER), "due_attempts": 0}

    def add(self, values: dict[str, Any]) -> None:
        """Insert a new instance."""
        self._fast.insert(instances, [values])

    def header(self, instance_id: str, lock: bool = False) -> RowMapping | None:
        """An instance without its state."""
        stmt = _header_stmt(lock and self.dialect == "postgresql")
        return self.conn.execute(stmt, {"b_id": instance_id}).mappings().first()

    def full(self, instance_id: str, lock: bool = False) -> RowMapping | None:
        """An instance with its state."""
        stmt = select(instances).where(instances.c.id == instance_id)
        if lock and self.dialect == "postgresql":
            stmt = stmt.with_for_update()
        return self.conn.execute(stmt).mappings().first()

    def active_ids_of_version(self, version_id: int, limit: int) -> list[str]:
        """Ids of the instances not ended yet on one process version (at most `limit`)."""
        stmt = (select(instances.c.id).where(instances.c.process_version_id == version_id,
                                             instances.c.status.in_(("running", "waiting", "suspended", "error")))
                .order_by(instances.c.id).limit(limit))
        return [str(i) for i in self.conn.execute(stmt).scalars()]

    def state(self, instance_id: str) -> str | None:
        """Only the serialised workflow state."""
        return self.conn.execute(_state_stmt(), {"b_id": instance_id}).scalar()

    def update(self, instance_id: str, expected_version: int, values: dict[str, Any]) -> bool:
        """Write new values if nobody else wrote first (False otherwise); bumps the row version.

        On PostgreSQL the write travels with the next round trip and the server makes the
        check: a lost race raises ConcurrentChange then, and this answers True.
        """
        if "status" in values:
            committed.note(self.conn, "instance.status", {"status": values["status"]})
        return self._fast.update_instance(instance_id, expected_version, values)

    def claim_due(self, now: datetime, limit: int) -> list[str]:
        """Ids of instances whose next timer is due, locked for this transaction where possible."""
        stmt = (
            select(instances.c.id)
            .where(instances.c.next_due_at < now)
            .order_by(instances.c.next_due_at)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return list(self.conn.execute(stmt).scalars())

    def claim_due_rows(self, bound: datetime, limit: int, now: datetime | None = None) -> list[RowMapping]:
        """Whole rows (state included) of instances due before `bound`, oldest first, locked where possible.

        With `now`, rows another scheduler holds under a lease still running at `now` are passed over.
        """
        stmt = select(instances).where(instances.c.next_due_at < bound)
        if now is not None:
            stmt = stmt.where(_unleased(now))
        stmt = stmt.order_by(instances.c.next_due_at).limit(limit)
        if self.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return list(self.conn.execute(stmt).mappings())

    def lease(self, instance_ids: Sequence[str], until: datetime) -> None:
        """Hold claimed instances for one scheduler until `until` and count the attempt (no version bump)."""
        if instance_ids:
            self.conn.execute(
                update(instances)
                .where(instances.c.id.in_(list(instance_ids)))
                .values(claimed_until=until, due_attempts=instances.c.due_attempts + 1)
            )

    def release(self, instance_id: str, attempts: int = 0) -> None:
        """End a scheduler's lease on an instance, keeping `attempts` failed attempts on record."""
        self.conn.execute(
            update(instances).where(instances.c.id == instance_id).values(claimed_until=None, due_attempts=attempts)
        )

    def earliest_due(self, now: datetime | None = None) -> datetime | None:
        """When the next instance timer (or automatic retry) falls due; with `now`, when one can next be claimed."""
        stmt = select(instances.c.next_due_at).where(instances.c.next_due_at.is_not(None))
        if now is None:
            return self.conn.execute(stmt.order_by(instances.c.next_due_at).limit(1)).scalar()
        free = self.conn.execute(stmt.where(_unleased(now)).order_by(instances.c.next_due_at).limit(1)).scalar()
        lease_end = self.conn.execute(
            select(func.min(instances.c.claimed_until))
            .where(instances.c.claimed_until > now, instances.c.next_due_at.is_not(None))
        ).scalar()
        return min((moment for moment in (free, lease_end) if moment is not None), default=None)

    def due_list(self, limit: int = 50) -> Sequence[RowMapping]:
        """The next timers to fire, earliest first."""
        stmt = (
            select(*INSTANCE_HEADER)
            .where(instances.c.next_due_at.is_not(None))
            .order_by(instances.c.next_due_at)
            .limit(limit)
        )
        return self.conn.execute(stmt).mappings().all()

    # -- message subscriptions ---------------------------------------------------------------

    def open_case(self, process_id: str, codice_fiscale: str, key: str) -> str | None:
        """The id of an open instance of this process for this codice fiscale (the guarded one, else the oldest)."""
        open_ = instances.c.status.not_in(("completed", "terminated"))
        stmt = (select(instances.c.id)
                .where((instances.c.open_case_key == key)
                       | ((instances.c.codice_fiscale == codice_fiscale) & (instances.c.process_id == process_id)
                          & open_))
                .order_by(instances.c.open_case_key.is_(None), instances.c.started_at, instances.c.id).limit(1))
        return self.conn.execute(stmt).scalar()

    def subscribers(self, name: str, correlation: str) -> list[str]:
        """Instances waiting for this message with this correlation."""
        stmt = select(subscriptions.c.instance_id).where(
            subscriptions.c.name == name, subscriptions.c.correlation == correlation
        )
        return list(self.conn.execute(stmt).scalars())

    def replace_subscriptions(
        self, instance_id: str, removed: Iterable[tuple[str, str]], added: Iterable[tuple[str, str]]
    ) -> None:
        """Apply the difference between an instance's old and new subscriptions."""
        gone = [{"b_instance": instance_id, "b_name": n, "b_correlation": c} for n, c in removed]
        if gone:
            self.conn.execute(_delete_subscription_stmt(), gone)
        rows = [{"instance_id": instance_id, "name": n, "correlation": c} for n, c in added]
        if rows:
            self.conn.execute(insert(subscriptions), rows)

    def subscriptions_of(self, instance_id: str) -> set[tuple[str, str]]:
        """The messages an instance waits for."""
        stmt = select(subscriptions.c.name, subscriptions.c.correlation).where(
            subscriptions.c.instance_id == instance_id
        )
        return {(row.name, row.correlation) for row in self.conn.execute(stmt)}

    # -- messages that arrived before anyone waited ------------------------------------------

    def buffer_message(self, values: dict[str, Any]) -> None:
        """Keep a message nobody waits for yet."""
        self.conn.execute(insert(pending_messages).values(**values))

    def take_buffered(self, name: str, correlation: str) -> RowMapping | None:
        """Remove and return the oldest buffered message matching a subscription."""
        row = (self.conn.execute(_oldest_buffered_stmt(), {"b_name": name, "b_correlation": correlation})
               .mappings().first())
        if row is not None:
            self.conn.execute(delete(pending_messages).where(pending_messages.c.id == row["id"]))
        return row

    def drop_buffered(self, correlation: str) -> Sequence[RowMapping]:
        """Remove and return every buffered message with this correlation (e.g. for a case that ended)."""
        rows = self.conn.execute(_buffered_by_correlation_stmt(), {"b_correlation": correlation}).mappings().all()
        if rows:
            self.conn.execute(delete(pending_messages).where(pending_messages.c.id.in_([r["id"] for r in rows])))
        return rows

"""Closed instances' cold side: their state and audit rows moved out of the tables every step writes.

An archived instance keeps its row in `instances` (the header every list, search, count and
indicator reads, a few hundred bytes) with an empty `state`; its serialised state goes to
`archived_states` and its audit rows to `archived_audit_events`. The repositories that read
one instance's state or audit rows read both sides (`every_audit_row`), so the case file and
the admin console show an archived case as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, ScalarSelect, Subquery, delete, func, insert, literal, select, union_all, update
from sqlalchemy.sql.elements import ColumnElement

from ..domain.model import ENDED
from .tables import archived_audit_events, archived_states, audit_events, instances

AUDIT_COLUMNS = [c.name for c in audit_events.c]


def every_audit_row() -> Subquery:
    """The hot and the archived audit rows as one relation with the audit table's columns.

    Both sides are indexed on (instance_id, id) and on task_id, and both PostgreSQL and SQLite
    push a condition on the subquery into each side, so one instance's reads stay index reads.
    """
    return union_all(select(audit_events), select(*[archived_audit_events.c[name] for name in AUDIT_COLUMNS])
                     ).subquery("audit_events")


def archived_state_of(instance_id_column: ColumnElement[str]) -> ScalarSelect[str]:
    """The archived state of the instance in `instance_id_column` (a scalar subquery, NULL when none)."""
    return (select(archived_states.c.state).where(archived_states.c.instance_id == instance_id_column)
            .scalar_subquery())


@dataclass(frozen=True)
class MovedBatch:
    """What one archive batch moved."""

    instances: int
    audit_rows: int
    state_chars: int


class ArchiveRepository:
    """Finds closed instances due for the archive and moves their state and audit rows there."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect

    def due(self, closed_before: datetime, limit: int) -> list[str]:
        """Up to `limit` ids of instances closed before `closed_before` and not archived, oldest closure first.

        On PostgreSQL the rows are locked and rows another archiver holds are skipped.
        """
        stmt = (select(instances.c.id)
                .where(instances.c.archived_at.is_(None), instances.c.ended_at.is_not(None),
                       instances.c.ended_at < closed_before, instances.c.status.in_(ENDED))
                .order_by(instances.c.ended_at).limit(limit))
        if self.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return [str(i) for i in self.conn.execute(stmt).scalars()]

    def move(self, ids: Sequence[str], now: datetime) -> MovedBatch:
        """Move these instances' state and audit rows to the archive tables (in the caller's transaction)."""
        if not ids:
            return MovedBatch(0, 0, 0)
        chosen = list(ids)
        still_hot = _still_hot(chosen)
        chars = int(self.conn.execute(select(func.coalesce(func.sum(func.length(instances.c.state)), 0))
                                      .where(still_hot)).scalar() or 0)
        self.conn.execute(insert(archived_states).from_select(
            ["instance_id", "state", "archived_at"],
            select(instances.c.id, instances.c.state, literal(now, archived_states.c.archived_at.type)).where(still_hot)))
        audit = audit_events.c.instance_id.in_(chosen)
        self.conn.execute(insert(archived_audit_events).from_select(
            AUDIT_COLUMNS, select(*[audit_events.c[name] for name in AUDIT_COLUMNS]).where(audit)))
        moved_audit = self.conn.execute(delete(audit_events).where(audit)).rowcount
        moved = self.conn.execute(update(instances).where(still_hot).values(
            state="", archived_at=now, row_version=instances.c.row_version + 1)).rowcount
        return MovedBatch(int(moved), int(moved_audit), chars)

    def counts(self) -> dict[str, int]:
        """How many instances are archived, and how many archived audit rows there are."""
        archived = self.conn.execute(select(func.count()).select_from(archived_states)).scalar()
        audit = self.conn.execute(select(func.count()).select_from(archived_audit_events)).scalar()
        return {"instances": int(archived or 0), "audit_rows": int(audit or 0)}


def _still_hot(ids: list[str]) -> ColumnElement[bool]:
    """These instances, closed and not archived yet (a second archiver's batch finds nothing left)."""
    return instances.c.id.in_(ids) & instances.c.archived_at.is_(None) & instances.c.status.in_(ENDED)

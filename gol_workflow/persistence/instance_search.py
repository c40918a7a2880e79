"""Admin queries over instances: filtered, keyset-paged listing and counts per status."""

from __future__ import annotations

from typing import Any

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Connection,
    RowMapping,
    Select,
    Text,
    and_,
    func,
    literal,
    or_,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement

from .sealing import opened
from .tables import audit_events, instances, process_versions

# What a listing row needs: never the workflow state.
LIST_COLUMNS = [
    instances.c.id,
    instances.c.process_id,
    instances.c.process_version_id,
    instances.c.status,
    instances.c.suspended_status,
    instances.c.zone,
    instances.c.beneficiary_name,
    instances.c.codice_fiscale,
    instances.c.case_manager,
    instances.c.current_step,
    instances.c.error,
    instances.c.next_due_at,
    instances.c.started_by,
    instances.c.started_at,
    instances.c.updated_at,
    instances.c.ended_at,
]


@dataclass(frozen=True)
class InstanceCriteria:
    """Conditions on instance rows, already resolved to column values."""

    statuses: tuple[str, ...] = ()
    process_id: str | None = None
    version_id: int | None = None
    zone: str | None = None
    codice_fiscale: str | None = None
    name_contains: str | None = None
    started_from: datetime | None = None  # inclusive
    started_before: datetime | None = None  # exclusive
    has_error: bool = False
    error_element: str | None = None
    ids: tuple[str, ...] = ()

    @property
    def indexed(self) -> bool:
        """True when every condition can be answered from an index (no substring search)."""
        return not (self.name_contains or self.error_element)


@dataclass(frozen=True)
class Keyset:
    """A position in the (started_at, id) order, newest first."""

    started_at: datetime
    id: str


class InstanceSearch:
    """SQL for the admin instance list; every filter has an index that starts with its column."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def page(
        self, criteria: InstanceCriteria, limit: int, after: Keyset | None = None, before: Keyset | None = None,
        offset: int = 0,
    ) -> list[RowMapping]:
        """Up to `limit` rows newest first, after (or before) a keyset position; with the version number."""
        stmt = self._where(self._select(), criteria)
        key = tuple_(instances.c.started_at, instances.c.id)
        if before is not None:
            stmt = stmt.where(key > _position(before))
            stmt = stmt.order_by(instances.c.started_at.asc(), instances.c.id.asc()).limit(limit)
            return list(reversed(self.conn.execute(stmt).mappings().all()))
        if after is not None:
            stmt = stmt.where(key < _position(after))
        stmt = stmt.order_by(instances.c.started_at.desc(), instances.c.id.desc()).limit(limit).offset(offset)
        return list(self.conn.execute(stmt).mappings().all())

    def exists_newer(self, criteria: InstanceCriteria, position: Keyset) -> bool:
        """True when some matching row comes before `position` (there is a previous page)."""
        key = tuple_(instances.c.started_at, instances.c.id)
        stmt = self._where(select(instances.c.id), criteria).where(
            key > _position(position))
        return self.conn.execute(stmt.limit(1)).first() is not None

    def counts_by_status(self, criteria: InstanceCriteria) -> dict[str, int]:
        """How many rows match in each status (the status condition itself left out), exactly."""
        without_status = InstanceCriteria(**{**criteria.__dict__, "statuses": ()})
        stmt = self._where(select(instances.c.status, func.count()), without_status).group_by(instances.c.status)
        return {row[0]: int(row[1]) for row in self.conn.execute(stmt)}

    def capped_counts(self, criteria: InstanceCriteria, statuses: Sequence[str], cap: int) -> dict[str, int]:
        """Like `counts_by_status`, but each count stops at `cap` + 1: one index range per status, whatever the size."""
        without_status = InstanceCriteria(**{**criteria.__dict__, "statuses": ()})
        columns = []
        for status in statuses:
            matching = self._where(select(instances.c.id).where(instances.c.status == status), without_status)
            bounded = matching.limit(cap + 1).subquery()
            columns.append(select(func.count()).select_from(bounded).scalar_subquery().label(status))
        row = self.conn.execute(select(*columns)).mappings().one()
        return {status: int(row[status] or 0) for status in statuses}

    def audit_trail(self, instance_id: str, limit: int, action: str | None = None) -> list[dict[str, Any]]:
        """Audit events of one instance, newest first (optionally of one action)."""
        stmt = select(audit_events).where(audit_events.c.instance_id == instance_id)
        if action is not None:
            stmt = stmt.where(audit_events.c.action == action)
        return opened(self.conn, self.conn.execute(stmt.order_by(audit_events.c.id.desc()).limit(limit)).mappings().all())

    def versions(self) -> list[RowMapping]:
        """Every deployed version's id, process, number and name (no files, no counts: cheap)."""
        stmt = select(process_versions.c.id, process_versions.c.process_id, process_versions.c.version,
                      process_versions.c.name).order_by(process_versions.c.process_id, process_versions.c.version.desc())
        return list(self.conn.execute(stmt).mappings().all())

    def counts_by_version(self) -> dict[tuple[int, str], int]:
        """Instances per (process version id, status)."""
        stmt = select(instances.c.process_version_id, instances.c.status, func.count()).group_by(
            instances.c.process_version_id, instances.c.status)
        return {(int(row[0]), row[1]): int(row[2]) for row in self.conn.execute(stmt)}

    def ids(self, criteria: InstanceCriteria, limit: int) -> list[str]:
        """Ids of matching rows, oldest first (for batch operations)."""
        stmt = self._where(select(instances.c.id), criteria)
        stmt = stmt.order_by(instances.c.started_at, instances.c.id).limit(limit)
        return list(self.conn.execute(stmt).scalars())

    def count(self, criteria: InstanceCriteria) -> int:
        """How many rows match."""
        return int(self.conn.execute(self._where(select(func.count()).select_from(instances), criteria)).scalar() or 0)

    def one(self, instance_id: str) -> RowMapping | None:
        """One listing row with its version number."""
        return self.conn.execute(self._select().where(instances.c.id == instance_id)).mappings().first()

    @staticmethod
    def _select() -> Select:
        return select(*LIST_COLUMNS, process_versions.c.version.label("version")).join(
            process_versions, process_versions.c.id == instances.c.process_version_id)

    @staticmethod
    def _where(stmt: Select, c: InstanceCriteria) -> Select:
        conditions = _conditions(c)
        return stmt.where(and_(*conditions)) if conditions else stmt


def _position(position: Keyset) -> ColumnElement:
    return tuple_(literal(position.started_at, instances.c.started_at.type), literal(position.id, instances.c.id.type))


def _conditions(c: InstanceCriteria) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if c.statuses:
        found.append(instances.c.status.in_(c.statuses))
    if c.process_id:
        found.append(instances.c.process_id == c.process_id)
    if c.version_id is not None:
        found.append(instances.c.process_version_id == c.version_id)
    if c.zone:
        found.append(instances.c.zone == c.zone)
    if c.codice_fiscale:
        found.append(instances.c.codice_fiscale == c.codice_fiscale)
    if c.name_contains:
        pattern = f"%{_escape(c.name_contains)}%"
        found.append(instances.c.beneficiary_name.ilike(pattern, escape="\\"))
    if c.started_from is not None:
        found.append(instances.c.started_at >= c.started_from)
    if c.started_before is not None:
        found.append(instances.c.started_at < c.started_before)
    if c.has_error:
        found.append(or_(instances.c.status == "error",
                         and_(instances.c.status == "suspended", instances.c.suspended_status == "error")))
    if c.error_element:
        found.append(type_coerce(instances.c.error, Text).like(f'%"element_id":"{_escape(c.error_element)}"%', escape="\\"))
    if c.ids:
        found.append(instances.c.id.in_(c.ids))
    return found


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

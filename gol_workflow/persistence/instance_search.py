"""Admin queries over instances: filtered, keyset-paged listing and counts per status."""

from __future__ import annotations

import enum
import weakref
from typing import Any
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Connection,
    Engine,
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
from sqlalchemy import text as sql_text
from sqlalchemy.sql.elements import ColumnElement

from .archive import every_audit_row
from .sealing import opened
from .tables import instances, process_versions

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
        """True when counting per status can stop at a cap on each status's index range.

        A part of a name is left out even where the trigram index finds it: one exact pass over
        its matches costs less than a capped pass per status, each of which rereads them.
        """
        return not (self.name_contains or self.error_element)


@dataclass(frozen=True)
class Keyset:
    """A position in the (started_at, id) order, newest first."""

    started_at: datetime
    id: str


class NameSearch(enum.Enum):
    """How a part of a name is matched on this database."""

    TRIGRAM = "trigram"  # anywhere in the name, from PostgreSQL's trigram index
    PREFIX = "prefix"  # PostgreSQL without pg_trgm: the beginning of the name, on a btree over lower(name)
    SCAN = "scan"  # anywhere in the name, reading every row (SQLite, or no index at all)


# What each engine's schema offers, asked once per process (migration 0023 chose it).
_NAME_SEARCH: weakref.WeakKeyDictionary[Engine, NameSearch] = weakref.WeakKeyDictionary()
NAME_INDEX = "ix_instances_beneficiary_name_trgm"


def name_search(conn: Connection) -> NameSearch:
    """Whether this database matches a part of a name anywhere or only at its beginning."""
    engine = conn.engine
    found = _NAME_SEARCH.get(engine)
    if found is None:
        found = NameSearch.SCAN
        if conn.dialect.name == "postgresql":
            method = conn.execute(sql_text(
                "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam "
                "WHERE c.relname = :name AND c.relkind = 'i'"), {"name": NAME_INDEX}).scalar()
            found = {"gin": NameSearch.TRIGRAM, "btree": NameSearch.PREFIX}.get(method or "", NameSearch.SCAN)
        _NAME_SEARCH[engine] = found
    return found


class InstanceSearch:
    """SQL for the admin instance list; every filter has an index that starts with its column."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._names: NameSearch | None = None

    @property
    def names(self) -> NameSearch:
        """How this database matches a part of a name."""
        if self._names is None:
            self._names = name_search(self.conn)
        return self._names

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

    def first_counts(self, criteria: InstanceCriteria, cap: int) -> dict[str, int]:
        """Counts per status among the first `cap` + 1 matching rows (the status condition left out): exact when fewer match."""
        without_status = InstanceCriteria(**{**criteria.__dict__, "statuses": ()})
        first = self._where(select(instances.c.status), without_status).limit(cap + 1).subquery()
        stmt = select(first.c.status, func.count()).group_by(first.c.status)
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
        audit_events = every_audit_row()  # an archived instance's rows too
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

    def _where(self, stmt: Select, c: InstanceCriteria) -> Select:
        conditions = _conditions(c, self.names if c.name_contains else NameSearch.SCAN)
        return stmt.where(and_(*conditions)) if conditions else stmt


def _position(position: Keyset) -> ColumnElement:
    return tuple_(literal(position.started_at, instances.c.started_at.type), literal(position.id, instances.c.id.type))


def _conditions(c: InstanceCriteria, names: NameSearch) -> list[ColumnElement[bool]]:
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
    if c.name_contains and names is NameSearch.PREFIX:
        # A constant pattern without ESCAPE (PostgreSQL's default escape is the backslash), so
        # the planner turns it into a range on the lower(name) text_pattern_ops index.
        found.append(func.lower(instances.c.beneficiary_name).like(f"{_escape(c.name_contains.lower())}%"))
    elif c.name_contains:
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

"""Admin queries over instances: filtered, keyset-paged listing and counts per status."""

from __future__ import annotations

import enum
import weakref
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    RowMapping,
    Select,
    String,
    Text,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    true,
    tuple_,
    type_coerce,
    union_all,
)
from sqlalchemy import text as sql_text
from sqlalchemy.sql.elements import BindParameter, ColumnElement

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
    version: int | None = None  # a version number of `process_id`, looked up by the statement itself
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


class Counting(enum.Enum):
    """How the counts per status that go with a page are taken."""

    CAPPED = "capped"  # each status's count stops at cap + 1: an index range per status
    FIRST = "first"  # among the first cap + 1 matches only
    EXACT = "exact"  # every match


@dataclass(frozen=True)
class CountRequest:
    """Which counts per status a page needs (the status condition itself left out)."""

    how: Counting
    statuses: tuple[str, ...]
    cap: int = 0


@dataclass(frozen=True)
class Found:
    """A page of rows and its counts per status; `matched`: every match counted (FIRST: up to cap + 1)."""

    rows: list[RowMapping]
    counts: dict[str, int]
    matched: int
    newest_version: int | None  # the highest process version id when the page was read (a deploy raises it)


class InstanceSearch:
    """SQL for the admin instance list; every filter has an index that starts with its column.

    Each statement is built once per shape (which filters are set, which way the page goes)
    with bound parameters, and reused: only the values change from one search to the next.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._names: NameSearch | None = None

    @property
    def names(self) -> NameSearch:
        """How this database matches a part of a name."""
        if self._names is None:
            self._names = name_search(self.conn)
        return self._names

    def page_and_counts(
        self, criteria: InstanceCriteria, limit: int, counting: CountRequest | None,
        after: Keyset | None = None, before: Keyset | None = None, offset: int = 0,
    ) -> Found:
        """Up to `limit` rows newest first (with the version number), after or before a keyset position or
        past `offset` rows, and the counts per status: capped ones read by the same statement."""
        names = self._mode(criteria)
        params = _bound(criteria, names)
        position = before or after
        direction = "before" if before is not None else "after" if after is not None else ""
        if position is not None:
            params["key_at"], params["key_id"] = position.started_at, position.id
        params["limit"] = limit
        if offset and position is None:
            params["offset"] = offset
        together = counting if counting is not None and counting.how is not Counting.EXACT else None
        if together is not None:
            params["cap"] = together.cap + 1
        stmt = _page_statement(_shape(criteria, names), direction, "offset" in params,
                               (together.how, together.statuses) if together is not None else None)
        rows = self.conn.execute(stmt, params).mappings().all()
        head = rows[0]  # the head row is there even when no instance matches
        found = [row for row in rows if row["id"] is not None]
        if before is not None:
            found.reverse()
        if together is None:
            counts = self.counts_by_status(criteria) if counting is not None else {}
            matched = sum(counts.values())
        else:
            counts = {status: int(head[f"n_{status}"] or 0) for status in together.statuses}
            matched = int(head["n_all"] or 0) if together.how is Counting.FIRST else sum(counts.values())
        return Found(found, counts, matched, head["newest_version"])

    def exists_newer(self, criteria: InstanceCriteria, position: Keyset) -> bool:
        """True when some matching row comes before `position` (there is a previous page)."""
        names = self._mode(criteria)
        key = tuple_(instances.c.started_at, instances.c.id)
        stmt = _filtered(select(instances.c.id), _shape(criteria, names)).where(key > _KEY_POSITION)
        params = {**_bound(criteria, names), "key_at": position.started_at, "key_id": position.id}
        return self.conn.execute(stmt.limit(1), params).first() is not None

    def counts_by_status(self, criteria: InstanceCriteria) -> dict[str, int]:
        """How many rows match in each status (the status condition itself left out), exactly."""
        without_status = _without_status(criteria)
        names = self._mode(without_status)
        stmt = _exact_counts(_shape(without_status, names))
        return {row[0]: int(row[1]) for row in self.conn.execute(stmt, _bound(without_status, names))}

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
        names = self._mode(criteria)
        stmt = _filtered(select(instances.c.id), _shape(criteria, names))
        stmt = stmt.order_by(instances.c.started_at, instances.c.id).limit(limit)
        return list(self.conn.execute(stmt, _bound(criteria, names)).scalars())

    def count(self, criteria: InstanceCriteria) -> int:
        """How many rows match."""
        names = self._mode(criteria)
        stmt = _filtered(select(func.count()).select_from(instances), _shape(criteria, names))
        return int(self.conn.execute(stmt, _bound(criteria, names)).scalar() or 0)

    def one(self, instance_id: str) -> RowMapping | None:
        """One listing row with its version number."""
        return self.conn.execute(_listing().where(instances.c.id == instance_id)).mappings().first()

    def _mode(self, criteria: InstanceCriteria) -> NameSearch:
        return self.names if criteria.name_contains else NameSearch.SCAN


# Which conditions a search has: the names of its bound values, and whether it wants failed instances only.
_Shape = tuple[NameSearch, frozenset[str], bool]

_KEY_POSITION = tuple_(bindparam("key_at", type_=instances.c.started_at.type),
                       bindparam("key_id", type_=instances.c.id.type))


def _without_status(criteria: InstanceCriteria) -> InstanceCriteria:
    return replace(criteria, statuses=()) if criteria.statuses else criteria


def _shape(c: InstanceCriteria, names: NameSearch) -> _Shape:
    keys = [*_status_keys(len(c.statuses)), *(key for key, present in (
        ("process_id", bool(c.process_id)), ("version_id", c.version_id is not None),
        ("version", c.version is not None and bool(c.process_id)),
        ("zone", bool(c.zone)), ("codice_fiscale", bool(c.codice_fiscale)), ("name", bool(c.name_contains)),
        ("started_from", c.started_from is not None), ("started_before", c.started_before is not None),
        ("error_element", bool(c.error_element)), ("ids", bool(c.ids))) if present)]
    return names if c.name_contains else NameSearch.SCAN, frozenset(keys), c.has_error


_STATUS = "b_status_"  # statuses bind one value each (b_status_0, b_status_1, ...): no list expanded per execution


def _status_keys(n: int) -> list[str]:
    return [f"{_STATUS}{i}" for i in range(n)]


def _statuses(keys: frozenset[str]) -> list[BindParameter[str]]:
    return [bindparam(key, type_=String()) for key in sorted(k for k in keys if k.startswith(_STATUS))]


def _bound(c: InstanceCriteria, names: NameSearch) -> dict[str, Any]:
    """The values of the criteria's conditions, by the name each condition binds."""
    params: dict[str, Any] = {}
    params.update(zip(_status_keys(len(c.statuses)), c.statuses))
    if c.process_id:
        params["process_id"] = c.process_id
    if c.version_id is not None:
        params["version_id"] = c.version_id
    if c.version is not None and c.process_id:
        params["version"] = c.version
    if c.zone:
        params["zone"] = c.zone
    if c.codice_fiscale:
        params["codice_fiscale"] = c.codice_fiscale
    if c.name_contains and names is NameSearch.PREFIX:
        params["name"] = f"{_escape(c.name_contains.lower())}%"
    elif c.name_contains:
        params["name"] = f"%{_escape(c.name_contains)}%"
    if c.started_from is not None:
        params["started_from"] = c.started_from
    if c.started_before is not None:
        params["started_before"] = c.started_before
    if c.error_element:
        params["error_element"] = f'%"element_id":"{_escape(c.error_element)}"%'
    if c.ids:
        params["ids"] = list(c.ids)
    return params


def _conditions(shape: _Shape) -> list[ColumnElement[bool]]:
    names, keys, has_error = shape
    found: list[ColumnElement[bool]] = []
    statuses = _statuses(keys)
    if statuses:
        found.append(instances.c.status.in_(statuses))
    for key in ("process_id", "zone", "codice_fiscale"):
        if key in keys:
            found.append(instances.c[key] == bindparam(key))
    if "version_id" in keys:
        found.append(instances.c.process_version_id == bindparam("version_id"))
    if "version" in keys:  # no such version: NULL, which matches nothing
        found.append(instances.c.process_version_id == select(process_versions.c.id).where(
            process_versions.c.process_id == bindparam("process_id"),
            process_versions.c.version == bindparam("version")).scalar_subquery())
    if "name" in keys and names is NameSearch.PREFIX:
        # No ESCAPE (PostgreSQL's default escape is the backslash), so the planner turns the
        # pattern into a range on the lower(name) text_pattern_ops index.
        found.append(func.lower(instances.c.beneficiary_name).like(bindparam("name", type_=String())))
    elif "name" in keys:
        found.append(instances.c.beneficiary_name.ilike(bindparam("name", type_=String()), escape="\\"))
    if "started_from" in keys:
        found.append(instances.c.started_at >= bindparam("started_from"))
    if "started_before" in keys:
        found.append(instances.c.started_at < bindparam("started_before"))
    if has_error:
        found.append(or_(instances.c.status == "error",
                         and_(instances.c.status == "suspended", instances.c.suspended_status == "error")))
    if "error_element" in keys:
        found.append(type_coerce(instances.c.error, Text).like(bindparam("error_element", type_=String()), escape="\\"))
    if "ids" in keys:
        found.append(instances.c.id.in_(bindparam("ids", expanding=True)))
    return found


def _filtered(stmt: Select, shape: _Shape) -> Select:
    conditions = _conditions(shape)
    return stmt.where(and_(*conditions)) if conditions else stmt


def _listing() -> Select:
    return select(*LIST_COLUMNS, process_versions.c.version.label("version")).join(
        process_versions, process_versions.c.id == instances.c.process_version_id)


def _capped_counts(shape: _Shape, statuses: tuple[str, ...], cap: ColumnElement[int]) -> list[ColumnElement[int]]:
    """A count per status (`n_<status>`), each stopping at `cap` rows: one index range per status."""
    columns = []
    for status in statuses:
        matching = _filtered(select(instances.c.id).where(instances.c.status == status), shape)
        bounded = matching.limit(cap).subquery()
        columns.append(select(func.count()).select_from(bounded).scalar_subquery().label(f"n_{status}"))
    return columns


@lru_cache(maxsize=256)
def _exact_counts(shape: _Shape) -> Select:
    return _filtered(select(instances.c.status, func.count()), shape).group_by(instances.c.status)


def _order(started_at: ColumnElement[Any], row_id: ColumnElement[Any], direction: str
           ) -> tuple[list[ColumnElement[bool]], list[ColumnElement[Any]]]:
    """The keyset condition and the order of a page going `direction` ("", "after" or "before")."""
    key = tuple_(started_at, row_id)
    if direction == "before":
        return [key > _KEY_POSITION], [started_at.asc(), row_id.asc()]
    return ([key < _KEY_POSITION] if direction == "after" else []), [started_at.desc(), row_id.desc()]


def _limited(stmt: Select, order: list[ColumnElement[Any]], skips: bool) -> Select:
    stmt = stmt.order_by(*order).limit(bindparam("limit", type_=Integer()))
    return stmt.offset(bindparam("offset", type_=Integer())) if skips else stmt


@lru_cache(maxsize=512)
def _page_statement(shape: _Shape, direction: str, skips: bool,
                    counting: tuple[Counting, tuple[str, ...]] | None) -> Select:
    """The page's rows, each joined to one head row (there even when the page is empty): the newest process
    version id and, with `counting`, the counts per status, capped at :cap.

    Counting the first :cap matches (a part of a name) reads them into `first`; when that is every
    match, the page is the newest of them, not a second search for the name.
    """
    keyset, order = _order(instances.c.started_at, instances.c.id, direction)
    page = _limited(_filtered(_listing(), shape).where(*keyset), order, skips)
    newest = select(func.max(process_versions.c.id)).scalar_subquery().label("newest_version")
    cap = bindparam("cap", type_=Integer())
    without_status = (shape[0], frozenset(k for k in shape[1] if not k.startswith(_STATUS)), shape[2])
    if counting is None:
        head = select(newest)
    elif counting[0] is Counting.CAPPED:
        head = select(newest, *_capped_counts(without_status, counting[1], cap))
    else:
        first = _filtered(select(instances.c.id, instances.c.status, instances.c.started_at),
                          without_status).limit(cap).cte("first")
        head = select(newest, *[func.count(case((first.c.status == status, 1))).label(f"n_{status}")
                                for status in counting[1]], func.count().label("n_all")).select_from(first)
        matched = select(func.count()).select_from(first).scalar_subquery()
        statuses = [first.c.status.in_(_statuses(shape[1]))] if _statuses(shape[1]) else []
        first_keyset, first_order = _order(first.c.started_at, first.c.id, direction)
        newest_of_first = _limited(select(first.c.id).where(*statuses, *first_keyset), first_order, skips)
        every = page.subquery("every")
        only = _limited(_listing().where(instances.c.id.in_(newest_of_first)), order, False).subquery("only")
        page = union_all(select(every).where(matched >= cap), select(only).where(matched < cap))
    top = head.subquery("head")
    rows = page.subquery("page")
    ascending = direction == "before"
    return select(top, rows).select_from(top.outerjoin(rows, true())).order_by(
        rows.c.started_at.asc() if ascending else rows.c.started_at.desc(),
        rows.c.id.asc() if ascending else rows.c.id.desc())


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

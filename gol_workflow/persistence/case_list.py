"""The case list: case records one person may see, filtered, sorted, paged; reads only `cases` (and `tasks` for due dates)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, Text, and_, bindparam, exists, false, func, or_, select, true, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from .sealing import SubjectKeys
from .tables import INSTANCE_HEADER, cases, instances, subject_keys, tasks, users

ENDED = ("completed", "terminated")
OPEN = ("running", "waiting", "error", "suspended")
STATUSES = (*OPEN, *ENDED)

SORTS = {
    "updated": cases.c.updated_at,
    "opened": cases.c.opened_at,
    "name": cases.c.beneficiary_name,
    "end": cases.c.path_end_at,
    "equipe": cases.c.equipe_at,
}

CODICE_FISCALE = re.compile(r"^[A-Z0-9]{16}$")
_RECORD = "record__"  # prefix of the record's columns read beside the instance header
_RECORD_CUT = len(_RECORD)
_KEY = "key__"  # prefix of the case's key columns read with them


@cache
def _header_and_record_stmt() -> Select[Any]:
    """The instance header, its case record with the next due date and the case manager's name, and its key."""
    due = (select(func.min(tasks.c.due_at)).where(tasks.c.case_id == cases.c.id)
           .scalar_subquery().label(f"{_RECORD}next_due_at"))
    return (select(*INSTANCE_HEADER, *[c.label(f"{_RECORD}{c.name}") for c in cases.c],
                   users.c.full_name.label(f"{_RECORD}case_manager_name"), due,
                   subject_keys.c.key.label(f"{_KEY}key"), subject_keys.c.codice_fiscale.label(f"{_KEY}codice_fiscale"))
            .select_from(instances)
            .outerjoin(cases, cases.c.id == instances.c.id)
            .outerjoin(users, users.c.username == cases.c.case_manager)
            .outerjoin(subject_keys, subject_keys.c.instance_id == instances.c.id)
            .where(instances.c.id == bindparam("b_id")))


@dataclass(frozen=True)
class CaseScope:
    """Which cases a person may see, already decided by the authorization rules."""

    everything: bool = False
    zones: tuple[str, ...] = ()  # every case of these zones (CPI, SdS)
    case_manager: str | None = None  # the cases assigned to this case manager (ATS)
    services: tuple[str, ...] = ()  # with `zones`: the cases these services are invited to (specialists)


@dataclass(frozen=True)
class CaseFilter:
    """The filters a person chose."""

    text: str | None = None  # part of the name, or a whole codice fiscale
    zone: str | None = None
    statuses: tuple[str, ...] = ()
    step: str | None = None
    overdue: bool = False
    mine: bool = False
    user: str = ""
    services: tuple[str, ...] = ()
    now: datetime | None = None


class CaseList:
    """SQL for the case list; each filter has an index to use."""

    def __init__(self, conn: Connection, keys: SubjectKeys | None = None) -> None:
        self.conn = conn
        self.keys = keys if keys is not None else SubjectKeys(conn)

    def page(
        self, scope: CaseScope, chosen: CaseFilter, sort: str, descending: bool, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        """One page of records, each with the case manager's name and the next due date of its tasks."""
        return self.page_and_count(scope, chosen, sort, descending, limit, offset, None)[0]

    def page_and_count(
        self, scope: CaseScope, chosen: CaseFilter, sort: str, descending: bool, limit: int, offset: int,
        cap: int | None,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of records and how many match (at most `cap` + 1; 0 when `cap` is None), in one round trip.

        The page's ids are chosen first from the list indexes alone (filters and sort keys are their
        columns), then only those rows are read: a deep page skips index entries, not table rows.
        Each row carries the case manager's name, the next due date of its tasks and the capped count
        (computed once by the server): a page costs one statement, not three. An empty page (past the
        last, or nothing matches) asks for the count on its own.
        """
        column = SORTS.get(sort, cases.c.updated_at)
        order = _order(column, descending)
        key: ColumnElement[Any] = column
        if column is cases.c.beneficiary_name and not scope.everything:
            # The same order, in a form the every-zone name index cannot serve: walking it for one
            # zone reads about a hundred other zones' rows per row kept; the scope's own index does not.
            key = column.concat("")
        chosen_ids = (self._where(select(cases.c.id), scope, chosen).order_by(*_order(key, descending))
                      .limit(limit).offset(offset))
        page_ids = chosen_ids.subquery("page_ids")
        due = (select(func.min(tasks.c.due_at)).where(tasks.c.case_id == cases.c.id)
               .scalar_subquery().label("next_due_at"))
        columns: list[Any] = [cases, users.c.full_name.label("case_manager_name"), due]
        if cap is not None:
            columns.append(self._count_stmt(scope, chosen, cap).scalar_subquery().label("matching"))
        stmt = (
            select(*columns)
            .join(page_ids, page_ids.c.id == cases.c.id)
            .outerjoin(users, users.c.username == cases.c.case_manager)
            .order_by(*order)
        )
        rows = [dict(r) for r in self.conn.execute(stmt).mappings()]
        if cap is None:
            return rows, 0
        if not rows:
            return rows, self.count(scope, chosen, cap) if offset else 0
        counted = int(rows[0]["matching"] or 0)
        for row in rows:
            del row["matching"]
        return rows, counted

    def count(self, scope: CaseScope, chosen: CaseFilter, cap: int) -> int:
        """How many records match, counting at most `cap` + 1 (so a large zone costs the same as a small one)."""
        return int(self.conn.execute(self._count_stmt(scope, chosen, cap)).scalar() or 0)

    def _count_stmt(self, scope: CaseScope, chosen: CaseFilter, cap: int) -> Select:
        inner = self._where(select(cases.c.id), scope, chosen).limit(cap + 1).subquery()
        return select(func.count()).select_from(inner)

    def header_and_record(self, case_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The instance's header (without its state) and its case record as `get` gives it, in one round trip.

        The case's key comes with them: the transaction's reads and writes of the case's audit rows need it.
        """
        row = self.conn.execute(_header_and_record_stmt(), {"b_id": case_id}).mappings().first()
        if row is None:
            return None, None
        header: dict[str, Any] = {}
        record: dict[str, Any] = {}
        for name, value in row.items():
            if name.startswith(_RECORD):
                record[name[_RECORD_CUT:]] = value
            elif not name.startswith(_KEY):
                header[name] = value
        key = row[f"{_KEY}key"]
        self.keys.known(case_id, (bytes(key), str(row[f"{_KEY}codice_fiscale"])) if key is not None else None)
        return header, record if record["id"] is not None else None

    def get(self, case_id: str) -> dict[str, Any] | None:
        """One record with the case manager's name."""
        stmt = (select(cases, users.c.full_name.label("case_manager_name"))
                .outerjoin(users, users.c.username == cases.c.case_manager).where(cases.c.id == case_id))
        due = (select(func.min(tasks.c.due_at)).where(tasks.c.case_id == cases.c.id)
               .scalar_subquery().label("next_due_at"))
        row = self.conn.execute(stmt.add_columns(due)).mappings().first()
        return None if row is None else dict(row)

    def _where(self, stmt: Select, scope: CaseScope, chosen: CaseFilter) -> Select:
        visible = _visible(scope)
        if visible is None:
            return stmt.where(false())
        conditions: list[ColumnElement[bool]] = [visible]
        if chosen.zone:
            conditions.append(cases.c.zone == chosen.zone)
        if chosen.statuses:
            conditions.append(cases.c.status.in_(chosen.statuses))
        if chosen.step:
            conditions.append(cases.c.current_step == chosen.step)
        if chosen.text:
            text = chosen.text.strip()
            if CODICE_FISCALE.match(text.upper()):
                conditions.append(cases.c.codice_fiscale == text.upper())
            elif scope.everything:
                conditions.append(cases.c.beneficiary_name.ilike(f"%{_escape(text)}%", escape="\\"))
            else:
                # The same match as ILIKE (PostgreSQL lower-cases both sides for it, as SQLite does), written
                # so that the trigram index cannot serve it: its row estimate for a few letters is far too
                # low, and the planner would read thousands of other zones' rows instead of this scope's index.
                pattern = func.lower(f"%{_escape(text)}%")
                conditions.append(func.lower(cases.c.beneficiary_name).like(pattern, escape="\\"))
        if chosen.overdue and chosen.now is not None:
            overdue = select(tasks.c.case_id).where(tasks.c.due_at < chosen.now, tasks.c.case_id.is_not(None))
            zones = (chosen.zone,) if chosen.zone else scope.zones if not scope.everything else ()
            if zones:
                # Only the scope's zones' overdue tasks (`(zone, due_at)` index), not the country's: a
                # task carries its case's zone (none when its process declares no zone).
                overdue = overdue.where(or_(tasks.c.zone.in_(zones), tasks.c.zone.is_(None)))
            if scope.case_manager and not zones:
                # A case manager's thousand cases: each one's tasks looked up, not every overdue task hashed.
                conditions.append(exists().where(tasks.c.case_id == cases.c.id, tasks.c.due_at < chosen.now))
            else:
                conditions.append(cases.c.id.in_(overdue))
        if chosen.mine:
            conditions.append(_mine(chosen))
        return stmt.where(and_(*conditions))


def _order(column: ColumnElement[Any], descending: bool) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The sort key (empty values last, except the never empty update time), then the id."""
    direction = column.desc() if descending else column.asc()
    if column is not cases.c.updated_at:
        direction = direction.nulls_last()
    return direction, cases.c.id.desc() if descending else cases.c.id.asc()


def _visible(scope: CaseScope) -> ColumnElement[bool] | None:
    if scope.everything:
        return true()
    if scope.case_manager:
        return cases.c.case_manager == scope.case_manager
    if scope.zones and scope.services:
        return and_(cases.c.zone.in_(scope.zones), _invited(scope.services))
    if scope.zones:
        return cases.c.zone.in_(scope.zones)
    return None


def _mine(chosen: CaseFilter) -> ColumnElement[bool]:
    """Cases I manage, cases my service is invited to, cases with a task I took."""
    parts: list[ColumnElement[bool]] = [cases.c.case_manager == chosen.user]
    if chosen.services:
        parts.append(_invited(chosen.services))
    taken = select(tasks.c.case_id).where(tasks.c.assignee == chosen.user, tasks.c.case_id.is_not(None))
    parts.append(cases.c.id.in_(taken))
    return or_(*parts)


def _invited(services: Sequence[str]) -> ColumnElement[bool]:
    # specialist_services is JSON text: match the quoted service id inside the list.
    text = type_coerce(cases.c.specialist_services, Text)
    return or_(*(text.like(f'%"{_escape(s)}"%', escape="\\") for s in services))


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

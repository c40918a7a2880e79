"""The case list: case records one person may see, filtered, sorted, paged; reads only `cases` (and `tasks` for due dates)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (Connection, Integer, Select, String, Text, and_, bindparam, exists, func, or_, select, true,
                        type_coerce, union_all)
from sqlalchemy.sql.elements import ColumnElement

from ..domain.model import ENDED
from .sealing import SubjectKeys
from .tables import INSTANCE_HEADER, cases, instances, subject_keys, tasks, users
from .types import UtcDateTime

OPEN = ("running", "waiting", "error", "suspended")
STATUSES = (*OPEN, *ENDED)

SORTS = {
    "updated": cases.c.updated_at,
    "opened": cases.c.opened_at,
    "name": cases.c.beneficiary_name,
    "end": cases.c.path_end_at,
    "equipe": cases.c.equipe_at,
}

# What a list row shows (the page and the API's summary): not the record's other facts, whose JSON and
# dates would be decoded for every row and never read.
LIST_COLUMNS = ("id", "process_id", "status", "current_step", "zone", "beneficiary_name", "codice_fiscale",
                "case_manager", "equipe_at", "first_appointment_at", "path_end_at", "outcome", "opened_at",
                "updated_at", "ended_at")
_LIST = [cases.c[name] for name in LIST_COLUMNS]
_NEXT_DUE = (select(func.min(tasks.c.due_at)).where(tasks.c.case_id == cases.c.id)
             .scalar_subquery().label("next_due_at"))

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
        """One page of list rows (`LIST_COLUMNS`), each with the case manager's name and the next due date of its tasks."""
        return self.page_and_count(scope, chosen, sort, descending, limit, offset, None)[0]

    def page_and_count(
        self, scope: CaseScope, chosen: CaseFilter, sort: str, descending: bool, limit: int, offset: int,
        cap: int | None,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of list rows and how many match (at most `cap` + 1; 0 when `cap` is None), in one round trip.

        The page's ids are chosen first from the list indexes alone (filters and sort keys are their
        columns), then only those rows are read: a deep page skips index entries, not table rows.
        Each row carries the case manager's name, the next due date of its tasks and the capped count
        (computed once by the server): a page costs one statement, not three. An empty page (past the
        last, or nothing matches) asks for the count on its own.
        """
        shape, params = _criteria(scope, chosen)
        if shape is None:
            return [], 0
        sort = sort if sort in SORTS else "updated"
        key = ("page", shape, sort, descending, cap is not None)
        stmt = _STATEMENTS.get(key)
        if stmt is None:
            stmt = _STATEMENTS[key] = _page_stmt(shape, sort, descending, cap is not None)
        result = self.conn.execute(stmt, {**params, "limit": limit, "offset": offset, "cap": (cap or 0) + 1})
        if cap is None:
            return [dict(r) for r in result.mappings()], 0
        rows: list[dict[str, Any]] = []
        counted = 0
        for r in result.mappings():
            row = dict(r)
            counted = row.pop("matching")
            rows.append(row)
        if not rows:
            return rows, self.count(scope, chosen, cap) if offset else 0
        return rows, int(counted or 0)

    def count(self, scope: CaseScope, chosen: CaseFilter, cap: int) -> int:
        """How many records match, counting at most `cap` + 1 (so a large zone costs the same as a small one)."""
        shape, params = _criteria(scope, chosen)
        if shape is None:
            return 0
        key = ("count", shape)
        stmt = _STATEMENTS.get(key)
        if stmt is None:
            stmt = _STATEMENTS[key] = _count_stmt(shape)
        return int(self.conn.execute(stmt, {**params, "cap": cap + 1}).scalar() or 0)

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



# One statement per list shape (which filters, how many services, which sort), its values bound at
# execution: built once, so a request neither assembles it nor computes its cache key again.
_STATEMENTS: dict[tuple[Any, ...], Select] = {}


def _criteria(scope: CaseScope, chosen: CaseFilter) -> tuple[tuple[Any, ...] | None, dict[str, Any]]:
    """The shape of the conditions (None: nothing is visible) and the values they bind."""
    params: dict[str, Any] = {}
    if scope.everything:
        shape: list[Any] = ["everything"]
    elif scope.case_manager:
        shape = ["case_manager"]
        params["scope_case_manager"] = scope.case_manager
    elif scope.zones:
        shape = ["zones", len(scope.services)]
        params["scope_zones"] = list(scope.zones)
        params.update({f"scope_service_{i}": _quoted(s) for i, s in enumerate(scope.services)})
    else:
        return None, params
    if chosen.zone:
        shape.append("zone")
        params["zone"] = chosen.zone
    if chosen.statuses:
        shape.append("statuses")
        params["statuses"] = list(chosen.statuses)
    if chosen.step:
        shape.append("step")
        params["step"] = chosen.step
    if chosen.text:
        text = chosen.text.strip()
        if CODICE_FISCALE.match(text.upper()):
            shape.append("codice_fiscale")
            params["codice_fiscale"] = text.upper()
        else:
            shape.append("name")
            params["name"] = f"%{_escape(text)}%"
    if chosen.overdue and chosen.now is not None:
        params["now"] = chosen.now
        zones = (chosen.zone,) if chosen.zone else scope.zones if not scope.everything else ()
        if zones:
            shape.append("overdue_in_zones")
            params["overdue_zones"] = list(zones)
        else:
            shape.append("overdue_of_manager" if scope.case_manager else "overdue")
    if chosen.mine:
        shape.extend(("mine", len(chosen.services)))
        params["user"] = chosen.user
        params.update({f"mine_service_{i}": _quoted(s) for i, s in enumerate(chosen.services)})
    return tuple(shape), params


def _where(stmt: Select, shape: tuple[Any, ...]) -> Select:
    """The conditions of a shape, with bound values (see `_criteria`)."""
    conditions: list[ColumnElement[bool]] = []
    if shape[0] == "everything":
        conditions.append(true())
    elif shape[0] == "case_manager":
        conditions.append(cases.c.case_manager == bindparam("scope_case_manager"))
    else:
        conditions.append(cases.c.zone.in_(bindparam("scope_zones", expanding=True)))
        if shape[1]:
            conditions.append(_invited("scope_service", shape[1]))
    if "zone" in shape:
        conditions.append(cases.c.zone == bindparam("zone"))
    if "statuses" in shape:
        conditions.append(cases.c.status.in_(bindparam("statuses", expanding=True)))
    if "step" in shape:
        conditions.append(cases.c.current_step == bindparam("step"))
    if "codice_fiscale" in shape:
        conditions.append(cases.c.codice_fiscale == bindparam("codice_fiscale"))
    elif "name" in shape and shape[0] == "everything":
        conditions.append(cases.c.beneficiary_name.ilike(bindparam("name", type_=String), escape="\\"))
    elif "name" in shape:
        # The same match as ILIKE (PostgreSQL lower-cases both sides for it, as SQLite does), written
        # so that the trigram index cannot serve it: its row estimate for a few letters is far too
        # low, and the planner would read thousands of other zones' rows instead of this scope's index.
        pattern = func.lower(bindparam("name", type_=String))
        conditions.append(func.lower(cases.c.beneficiary_name).like(pattern, escape="\\"))
    now = bindparam("now", type_=UtcDateTime)
    overdue = select(tasks.c.case_id).where(tasks.c.due_at < now, tasks.c.case_id.is_not(None))
    if "overdue_in_zones" in shape:
        # Only the scope's zones' overdue tasks (`(zone, due_at)` index), not the country's: a
        # task carries its case's zone (none when its process declares no zone).
        overdue = overdue.where(or_(tasks.c.zone.in_(bindparam("overdue_zones", expanding=True)),
                                    tasks.c.zone.is_(None)))
        conditions.append(cases.c.id.in_(overdue))
    elif "overdue_of_manager" in shape:
        # A case manager's thousand cases: each one's tasks looked up, not every overdue task hashed.
        conditions.append(exists().where(tasks.c.case_id == cases.c.id, tasks.c.due_at < now))
    elif "overdue" in shape:
        conditions.append(cases.c.id.in_(overdue))
    if "mine" in shape:
        conditions.append(_mine(shape[shape.index("mine") + 1]))
    return stmt.where(and_(*conditions))


def _page_stmt(shape: tuple[Any, ...], sort: str, descending: bool, counted: bool) -> Select:
    column = SORTS[sort]
    order = _order(column, descending)
    key: ColumnElement[Any] = column
    if column is cases.c.beneficiary_name and shape[0] != "everything":
        # The same order, in a form the every-zone name index cannot serve: walking it for one
        # zone reads about a hundred other zones' rows per row kept; the scope's own index does not.
        key = column.concat("")
    limit, offset = bindparam("limit", type_=Integer), bindparam("offset", type_=Integer)
    chosen_ids = _where(select(cases.c.id), shape).order_by(*_order(key, descending)).limit(limit).offset(offset)
    columns: list[Any] = [*_LIST, users.c.full_name.label("case_manager_name"), _NEXT_DUE]
    if not counted:
        page_ids = chosen_ids.subquery("page_ids")
    else:
        # The capped count's scan keeps the matches with their sort key. When it saw them all (fewer
        # than the cap: a name, a step, the overdue ones), the page is sorted out of them; only when
        # there are more is the scope's index walked again in order. A search then reads the scope's
        # index once instead of twice. The unused arm is skipped by the server (a one-time filter).
        cap = bindparam("cap", type_=Integer)
        matched = _where(select(cases.c.id, key.label("sort_key")), shape).limit(cap).cte("matched")
        counted_matches = select(func.count()).select_from(matched).scalar_subquery()
        direction = matched.c.sort_key.desc() if descending else matched.c.sort_key.asc()
        if column is not cases.c.updated_at:
            direction = direction.nulls_last()
        from_matches = (select(matched.c.id).order_by(direction, matched.c.id.desc() if descending
                                                      else matched.c.id.asc()).limit(limit).offset(offset)
                        .subquery("from_matches"))
        from_index = chosen_ids.subquery("from_index")
        page_ids = union_all(
            select(from_matches.c.id).where(counted_matches < cap),
            select(from_index.c.id).where(counted_matches >= cap),
        ).subquery("page_ids")
        columns.append(counted_matches.label("matching"))
    return (
        select(*columns)
        .join(page_ids, page_ids.c.id == cases.c.id)
        .outerjoin(users, users.c.username == cases.c.case_manager)
        .order_by(*order)
    )


def _count_stmt(shape: tuple[Any, ...]) -> Select:
    inner = _where(select(cases.c.id), shape).limit(bindparam("cap", type_=Integer)).subquery()
    return select(func.count()).select_from(inner)


def _order(column: ColumnElement[Any], descending: bool) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The sort key (empty values last, except the never empty update time), then the id."""
    direction = column.desc() if descending else column.asc()
    if column is not cases.c.updated_at:
        direction = direction.nulls_last()
    return direction, cases.c.id.desc() if descending else cases.c.id.asc()


def _mine(services: int) -> ColumnElement[bool]:
    """Cases I manage, cases my service is invited to, cases with a task I took."""
    user = bindparam("user")
    parts: list[ColumnElement[bool]] = [cases.c.case_manager == user]
    if services:
        parts.append(_invited("mine_service", services))
    taken = select(tasks.c.case_id).where(tasks.c.assignee == user, tasks.c.case_id.is_not(None))
    parts.append(cases.c.id.in_(taken))
    return or_(*parts)


def _invited(name: str, services: int) -> ColumnElement[bool]:
    # specialist_services is JSON text: match the quoted service id inside the list.
    text = type_coerce(cases.c.specialist_services, Text)
    return or_(*(text.like(bindparam(f"{name}_{i}", type_=String), escape="\\") for i in range(services)))


def _quoted(service: str) -> str:
    return f'%"{_escape(service)}"%'


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

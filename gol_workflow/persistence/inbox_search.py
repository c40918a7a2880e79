"""Inbox queries: the ready tasks one person may work, filtered, sorted, paged and counted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (Boolean, Connection, Integer, RowMapping, Select, String, Text, and_, bindparam, case, false,
                        func, or_, select, type_coerce)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from ..domain.model import ENDED
from .tables import instances, tasks
from .types import UtcDateTime



@cache
def _for_case_stmt() -> Select[Any]:
    """The ready tasks about one case, oldest first (built once: the case file reads them on every view)."""
    return select(tasks).where(tasks.c.case_id == bindparam("b_case_id")).order_by(tasks.c.created_at, tasks.c.id)

SORTS = {
    "attesa": tasks.c.created_at,
    "scadenza": tasks.c.due_at,
    "beneficiario": tasks.c.beneficiary_name,
    "attivita": tasks.c.name,
}
# Built once: an alias's column collection is made afresh on each use of a new alias.
_OWN = instances.alias("own_instance")
# A page row's columns: not the draft (JSON decoded per row) nor the visibility text, which no list shows.
_PAGE_COLUMNS = [c for c in tasks.c if c.name not in ("draft", "roles", "users")]


@dataclass(frozen=True)
class InboxScope:
    """What a person may see, already decided by the authorization rules."""

    everything: bool = False
    kind: str = ""  # the role's scope: zone | case (assigned to the person) | invitation; "" sees nothing
    role: str = ""  # tasks for this role (stored in `roles`) ...
    user: str = ""  # ... or naming this person (stored in `users`)
    lanes: tuple[str, ...] = ()  # lanes the role works, for tasks stored without their roles
    zones: tuple[str, ...] = ()
    case_manager: str | None = None
    services: tuple[str, ...] = ()
    participants: tuple[str, ...] = ()  # equipe participants whose own tasks the person works

    @property
    def joins_cases(self) -> bool:
        """True when the scope reads the case's header (invitation: the case's zone and services)."""
        return self.kind == "invitation"


@dataclass(frozen=True)
class InboxFilter:
    """The filters an operator chose."""

    zone: str | None = None
    element_id: str | None = None
    overdue: bool = False
    beneficiary: str | None = None
    queue: str = "tutte"  # tutte | mie | libere | scadute
    user: str = ""
    now: datetime | None = None


class InboxSearch:
    """SQL for the inbox page; every condition uses an indexed column first."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def page_with_blocked(
        self, scope: InboxScope, chosen: InboxFilter, sort: str, descending: bool, limit: int, offset: int,
        statuses: Sequence[str],
    ) -> list[dict[str, Any]]:
        """One page of tasks, each with `blocked` = its instance's {id, status, error} when the status is one of
        `statuses` (else None): one statement, not a second one for the page's instances."""
        shape, params = _criteria(scope, chosen, queue=True)
        if shape is None:
            return []
        sort = sort if sort in SORTS else "attesa"
        key = ("page", shape, sort, descending)
        stmt = _STATEMENTS.get(key)
        if stmt is None:
            stmt = _STATEMENTS[key] = _page_stmt(shape, sort, descending)
        found = []
        values = {**params, "limit": limit, "offset": offset, "blocked_statuses": list(statuses)}
        for row in self.conn.execute(stmt, values).mappings():
            item = dict(row)
            status, error = item.pop("blocked_status"), item.pop("blocked_error")
            item["blocked"] = (None if status is None else
                               {"id": item["instance_id"], "status": status, "error": error})
            found.append(item)
        return found

    def counts(self, scope: InboxScope, chosen: InboxFilter) -> dict[str, int]:
        """Task counts per queue under the same filters (except the queue itself)."""
        shape, params = _criteria(scope, chosen, queue=False)
        if shape is None:
            return dict.fromkeys(("tutte", "mie", "libere", "scadute"), 0)
        key = ("counts", shape, chosen.now is not None)
        stmt = _STATEMENTS.get(key)
        if stmt is None:
            stmt = _STATEMENTS[key] = _counts_stmt(shape, chosen.now is not None)
        row = self.conn.execute(stmt, {**params, "user": chosen.user, "now": chosen.now}).mappings().one()
        return {name: int(row[name] or 0) for name in ("tutte", "mie", "libere", "scadute")}

    def for_case(self, case_id: str) -> Sequence[RowMapping]:
        """Every ready task about one case (its own and those of meetings discussing it)."""
        return self.conn.execute(_for_case_stmt(), {"b_case_id": case_id}).mappings().all()

    def blocked_instances(self, instance_ids: Sequence[str], statuses: Sequence[str]) -> Sequence[RowMapping]:
        """Status and error of those of these instances whose status is one of `statuses` (a page's worth)."""
        if not instance_ids:
            return []
        stmt = select(instances.c.id, instances.c.status, instances.c.error).where(
            instances.c.id.in_(list(instance_ids)), instances.c.status.in_(list(statuses)))
        return self.conn.execute(stmt).mappings().all()


# One statement per inbox shape (scope kind, which filters, how many services, which sort), its values
# bound at execution: built once, so a request neither assembles it nor computes its cache key again.
_STATEMENTS: dict[tuple[Any, ...], Select] = {}


def _criteria(scope: InboxScope, chosen: InboxFilter, queue: bool) -> tuple[tuple[Any, ...] | None, dict[str, Any]]:
    """The shape of the conditions (None: nothing is visible) and the values they bind."""
    params: dict[str, Any] = {}
    if scope.everything:
        seen: list[Any] = ["everything"]
    elif not scope.kind or not (scope.role or scope.user):
        return None, params
    else:
        # Roles and names are stored as `,a,b,` text: match one whole name.
        params["named"] = f"%,{_escape(scope.user)},%"
        params["role"] = f"%,{_escape(scope.role)},%"
        seen = ["scoped", bool(scope.lanes)]
        if scope.lanes:
            params["lanes"] = list(scope.lanes)
        if scope.kind == "zone":
            seen.extend(("zone", bool(scope.zones)))
            if scope.zones:
                params["scope_zones"] = list(scope.zones)
        elif scope.kind == "case" and scope.case_manager:
            seen.append("case")
            params["case_manager"] = scope.case_manager
        elif scope.kind == "invitation" and scope.services and scope.zones:
            seen.extend(("invitation", len(scope.services)))
            params["scope_zones"] = list(scope.zones)
            params.update({f"service_{i}": f'%"{_escape(s)}"%' for i, s in enumerate(scope.services)})
        else:
            seen.append("named")
        seen.append(bool(scope.participants))
        if scope.participants:
            params["participants"] = list(scope.participants)
    # Who may see what comes first (with whether it reads the case's header), then the filters.
    shape: list[Any] = [(*seen, scope.joins_cases)]
    if chosen.zone:
        shape.append("zone_filter")
        params["zone"] = chosen.zone
    if chosen.element_id:
        shape.append("element")
        params["element_id"] = chosen.element_id
    if chosen.beneficiary:
        text = chosen.beneficiary.strip()
        shape.append("beneficiary")
        params["codice_fiscale"] = text.upper()
        params["name"] = f"%{_escape(text)}%"
    if (chosen.overdue or (queue and chosen.queue == "scadute")) and chosen.now is not None:
        shape.append("overdue")
        params["now"] = chosen.now
    if queue and chosen.queue == "mie":
        shape.append("mine")
        params["user"] = chosen.user
    elif queue and chosen.queue == "libere":
        shape.append("free")
    return tuple(shape), params


def _where(stmt: Select, shape: tuple[Any, ...]) -> Select:
    """The conditions of a shape, with bound values (see `_criteria`)."""
    if shape[0][-1]:
        stmt = stmt.outerjoin(instances, instances.c.id == tasks.c.case_id)
    conditions: list[ColumnElement[bool]] = [_visible_of(shape[0][:-1])]
    if "zone_filter" in shape:
        conditions.append(tasks.c.zone == bindparam("zone"))
    if "element" in shape:
        conditions.append(tasks.c.element_id == bindparam("element_id"))
    if "beneficiary" in shape:
        conditions.append(or_(tasks.c.codice_fiscale == bindparam("codice_fiscale"),
                              tasks.c.beneficiary_name.ilike(bindparam("name", type_=String), escape="\\")))
    if "overdue" in shape:
        conditions.append(tasks.c.due_at < bindparam("now", type_=UtcDateTime))
    if "mine" in shape:
        conditions.append(tasks.c.assignee == bindparam("user"))
    elif "free" in shape:
        conditions.append(tasks.c.assignee.is_(None))
    return stmt.where(and_(*conditions))


def _visible(scope: InboxScope) -> ColumnElement[bool] | None:
    """Who may see a task, as a condition with its values (None: nothing is visible)."""
    shape, params = _criteria(scope, InboxFilter(), queue=False)
    if shape is None:
        return None
    return _visible_of(shape[0][:-1], params)


def _visible_of(seen: tuple[Any, ...], values: dict[str, Any] | None = None) -> ColumnElement[bool]:
    """The visibility rule of a scope's shape: values bound at execution, or these `values` bound now."""

    def bind(name: str, **kw: Any) -> Any:
        return bindparam(name, **kw) if values is None else bindparam(name, values[name], **kw)

    if seen[0] == "everything":
        return tasks.c.id.is_not(None)
    _, lanes, kind, *rest = seen
    # A person the task names works it wherever it is; a role works it within the role's scope.
    named = tasks.c.users.like(bind("named", type_=String), escape="\\")
    candidate = [tasks.c.roles.like(bind("role", type_=String), escape="\\")]
    if lanes:  # a task stored before its roles were
        candidate.append(and_(tasks.c.roles.is_(None), tasks.c.lane.in_(bind("lanes", expanding=True))))
    by_role = or_(*candidate)
    scoped: ColumnElement[bool] | None = None
    if kind == "zone":
        # A task without a zone belongs to a process that declares none: its roles scope it.
        zoned = (or_(tasks.c.zone.in_(bind("scope_zones", expanding=True)), tasks.c.zone.is_(None))
                 if rest[0] else tasks.c.zone.is_(None))
        scoped = and_(zoned, by_role)
    elif kind == "case":
        # The tasks of the person's open cases, looked up by case in the tasks' index: joining every
        # task of the role to its case instead reads the country's tasks of that role (12,000 at a
        # million cases), each with a probe into the instances.
        managed = (select(instances.c.id).where(instances.c.case_manager == bind("case_manager"),
                                                instances.c.status.not_in(ENDED)).correlate(None))
        scoped = and_(by_role, InSubquery(tasks.c.case_id, managed))
    elif kind == "invitation":
        # specialist_services is JSON text: match the quoted service id inside the list.
        services = type_coerce(instances.c.specialist_services, Text)  # compare the stored text, not JSON
        invited = or_(*(services.like(bind(f"service_{i}", type_=String), escape="\\")
                        for i in range(rest[0])))
        # A task carries its case's zone (and follows it when the zone changes): the zone's tasks are
        # found by the tasks' zone index before their cases are read.
        own_zone = or_(tasks.c.zone.in_(bind("scope_zones", expanding=True)), tasks.c.zone.is_(None))
        scoped = and_(by_role, own_zone, instances.c.zone.in_(bind("scope_zones", expanding=True)), invited)
    visible = or_(named, scoped) if scoped is not None else named
    own = tasks.c.participant.is_(None)  # a participant's own task only in that participant's queue
    if seen[-1]:
        own = or_(own, tasks.c.participant.in_(bind("participants", expanding=True)))
    return and_(visible, own)


def _page_stmt(shape: tuple[Any, ...], sort: str, descending: bool) -> Select:
    column = SORTS[sort]
    order = [column.desc() if descending else column.asc(), tasks.c.id]
    if column is not tasks.c.created_at:
        order.insert(1, tasks.c.created_at)
    ids = (_where(select(tasks.c.id), shape).order_by(*order)
           .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer)).subquery())
    blocked = and_(_OWN.c.id == tasks.c.instance_id, _OWN.c.status.in_(bindparam("blocked_statuses", expanding=True)))
    return (select(*_PAGE_COLUMNS, _OWN.c.status.label("blocked_status"), _OWN.c.error.label("blocked_error"))
            .join(ids, ids.c.id == tasks.c.id)
            .outerjoin(_OWN, blocked)
            .order_by(*order))


def _counts_stmt(shape: tuple[Any, ...], dated: bool) -> Select:
    overdue = tasks.c.due_at < bindparam("now", type_=UtcDateTime) if dated else false()
    stmt = select(
        func.count().label("tutte"),
        func.coalesce(func.sum(case((tasks.c.assignee == bindparam("user"), 1), else_=0)), 0).label("mie"),
        func.coalesce(func.sum(case((tasks.c.assignee.is_(None), 1), else_=0)), 0).label("libere"),
        func.coalesce(func.sum(case((overdue, 1), else_=0)), 0).label("scadute"),
    )
    return _where(stmt.select_from(tasks), shape)


class InSubquery(ColumnElement[bool]):
    """`column IN (subquery)`; on PostgreSQL `column = ANY(ARRAY(subquery))`.

    PostgreSQL turns the array, computed once, into an index condition, so a rule that ORs this
    with another indexed condition reads two indexes; `IN (subquery)` under an OR can only be
    checked row by row over the whole table.
    """

    inherit_cache = True
    type = Boolean()
    # Both parts take part in the statement cache's key and give up their bound parameters.
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("subquery", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[Any], subquery: Select) -> None:
        self.column = column
        self.subquery = subquery

    def self_group(self, against: Any = None) -> ColumnElement[Any]:
        """Already a condition: never compared with true (`= 1`) where booleans are not native."""
        return self


@compiles(InSubquery)
def _in_subquery(element: InSubquery, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} IN ({compiler.process(element.subquery, **kw)})"


@compiles(InSubquery, "postgresql")
def _any_array(element: InSubquery, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} = ANY(ARRAY({compiler.process(element.subquery, **kw)}))"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


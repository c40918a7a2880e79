"""Inbox queries: the ready tasks one person may work, filtered, sorted, paged and counted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, Text, and_, bindparam, case, false, func, or_, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from .tables import instances, tasks


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
        """True when the scope reads the case's header (assignment or invitation)."""
        return self.kind in ("case", "invitation")


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
        column = SORTS.get(sort, tasks.c.created_at)
        order = [column.desc() if descending else column.asc(), tasks.c.id]
        if column is not tasks.c.created_at:
            order.insert(1, tasks.c.created_at)
        ids = self._where(select(tasks.c.id), scope, chosen).order_by(*order).limit(limit).offset(offset).subquery()
        own = instances.alias("own_instance")
        stmt = (select(tasks, own.c.status.label("blocked_status"), own.c.error.label("blocked_error"))
                .join(ids, ids.c.id == tasks.c.id)
                .outerjoin(own, and_(own.c.id == tasks.c.instance_id, own.c.status.in_(list(statuses))))
                .order_by(*order))
        found = []
        for row in self.conn.execute(stmt).mappings():
            item = {k: v for k, v in row.items() if k not in ("blocked_status", "blocked_error")}
            item["blocked"] = (None if row["blocked_status"] is None else
                               {"id": row["instance_id"], "status": row["blocked_status"], "error": row["blocked_error"]})
            found.append(item)
        return found

    def counts(self, scope: InboxScope, chosen: InboxFilter) -> dict[str, int]:
        """Task counts per queue under the same filters (except the queue itself)."""
        now = chosen.now
        overdue = tasks.c.due_at < now if now is not None else false()
        stmt = select(
            func.count().label("tutte"),
            func.coalesce(func.sum(case((tasks.c.assignee == chosen.user, 1), else_=0)), 0).label("mie"),
            func.coalesce(func.sum(case((tasks.c.assignee.is_(None), 1), else_=0)), 0).label("libere"),
            func.coalesce(func.sum(case((overdue, 1), else_=0)), 0).label("scadute"),
        )
        row = self.conn.execute(self._where(stmt.select_from(tasks), scope, chosen, queue=False)).mappings().one()
        return {key: int(row[key] or 0) for key in ("tutte", "mie", "libere", "scadute")}

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

    def _where(self, stmt: Select, scope: InboxScope, chosen: InboxFilter, queue: bool = True) -> Select:
        visible = _visible(scope)
        if visible is None:
            return stmt.where(false())
        if scope.joins_cases:
            stmt = stmt.outerjoin(instances, instances.c.id == tasks.c.case_id)
        conditions: list[ColumnElement[bool]] = [visible]
        if chosen.zone:
            conditions.append(tasks.c.zone == chosen.zone)
        if chosen.element_id:
            conditions.append(tasks.c.element_id == chosen.element_id)
        if chosen.beneficiary:
            text = chosen.beneficiary.strip()
            conditions.append(
                or_(tasks.c.codice_fiscale == text.upper(), tasks.c.beneficiary_name.ilike(f"%{_escape(text)}%", escape="\\"))
            )
        if (chosen.overdue or (queue and chosen.queue == "scadute")) and chosen.now is not None:
            conditions.append(tasks.c.due_at < chosen.now)
        if queue and chosen.queue == "mie":
            conditions.append(tasks.c.assignee == chosen.user)
        elif queue and chosen.queue == "libere":
            conditions.append(tasks.c.assignee.is_(None))
        return stmt.where(and_(*conditions))


def _visible(scope: InboxScope) -> ColumnElement[bool] | None:
    if scope.everything:
        return tasks.c.id.is_not(None)
    if not scope.kind or not (scope.role or scope.user):
        return None
    # Roles and names are stored as `,a,b,` text: match one whole name. A person the task names
    # works it wherever it is; a role works it within the role's scope.
    named = tasks.c.users.like(f"%,{_escape(scope.user)},%", escape="\\")
    candidate = [tasks.c.roles.like(f"%,{_escape(scope.role)},%", escape="\\")]
    if scope.lanes:  # a task stored before its roles were
        candidate.append(and_(tasks.c.roles.is_(None), tasks.c.lane.in_(scope.lanes)))
    by_role = or_(*candidate)
    scoped: ColumnElement[bool] | None = None
    if scope.kind == "zone":
        # A task without a zone belongs to a process that declares none: its roles scope it.
        zoned = or_(tasks.c.zone.in_(scope.zones), tasks.c.zone.is_(None)) if scope.zones else tasks.c.zone.is_(None)
        scoped = and_(zoned, by_role)
    elif scope.kind == "case" and scope.case_manager:
        scoped = and_(by_role, instances.c.case_manager == scope.case_manager)
    elif scope.kind == "invitation" and scope.services and scope.zones:
        # specialist_services is JSON text: match the quoted service id inside the list.
        services = type_coerce(instances.c.specialist_services, Text)  # compare the stored text, not JSON
        invited = or_(*(services.like(f'%"{_escape(s)}"%', escape="\\") for s in scope.services))
        scoped = and_(by_role, instances.c.zone.in_(scope.zones), invited)
    visible = or_(named, scoped) if scoped is not None else named
    own = tasks.c.participant.is_(None)  # a participant's own task only in that participant's queue
    if scope.participants:
        own = or_(own, tasks.c.participant.in_(scope.participants))
    return and_(visible, own)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


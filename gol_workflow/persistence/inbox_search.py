"""Inbox queries: the ready tasks one person may work, filtered, sorted, paged and counted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, RowMapping, Select, Text, and_, case, false, func, or_, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from .tables import instances, tasks

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
    zoned_lanes: tuple[str, ...] = ()  # lanes worked in the person's zones (CPI, SdS)
    zones: tuple[str, ...] = ()
    managed_lanes: tuple[str, ...] = ()  # lanes worked on cases assigned to the person (ATS)
    case_manager: str | None = None
    invited_lanes: tuple[str, ...] = ()  # lanes worked on cases the person's service is invited to
    services: tuple[str, ...] = ()
    participants: tuple[str, ...] = ()  # equipe participants whose own tasks the person works


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

    def page(
        self, scope: InboxScope, chosen: InboxFilter, sort: str, descending: bool, limit: int, offset: int
    ) -> Sequence[RowMapping]:
        """One page of tasks."""
        column = SORTS.get(sort, tasks.c.created_at)
        order = [column.desc() if descending else column.asc(), tasks.c.id]
        if column is not tasks.c.created_at:
            order.insert(1, tasks.c.created_at)
        stmt = self._where(select(tasks), scope, chosen).order_by(*order).limit(limit).offset(offset)
        return self.conn.execute(stmt).mappings().all()

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
        stmt = select(tasks).where(tasks.c.case_id == case_id).order_by(tasks.c.created_at, tasks.c.id)
        return self.conn.execute(stmt).mappings().all()

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
        if scope.managed_lanes or scope.invited_lanes:
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
    parts: list[ColumnElement[bool]] = []
    if scope.zoned_lanes and scope.zones:
        parts.append(and_(tasks.c.zone.in_(scope.zones), tasks.c.lane.in_(scope.zoned_lanes)))
    if scope.managed_lanes and scope.case_manager:
        parts.append(and_(tasks.c.lane.in_(scope.managed_lanes), instances.c.case_manager == scope.case_manager))
    if scope.invited_lanes and scope.services and scope.zones:
        # specialist_services is JSON text: match the quoted service id inside the list.
        services = type_coerce(instances.c.specialist_services, Text)  # compare the stored text, not JSON
        invited = or_(*(services.like(f'%"{_escape(s)}"%', escape="\\") for s in scope.services))
        parts.append(and_(tasks.c.lane.in_(scope.invited_lanes), instances.c.zone.in_(scope.zones), invited))
    if not parts:
        return None
    own = tasks.c.participant.is_(None)  # a participant's own task only in that participant's queue
    if scope.participants:
        own = or_(own, tasks.c.participant.in_(scope.participants))
    return and_(or_(*parts), own)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


"""Task notices: which person has been told of which task, and when the digest last ran."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (Connection, RowMapping, Select, and_, bindparam, case, delete, exists, func, insert, or_,
                        select, update)
from sqlalchemy.sql.elements import ColumnElement

from .inbox_search import InboxScope, _visible
from .tables import instances, notification_runs, task_notices, tasks, users

NEW = "new"
OVERDUE = "overdue"


class NoticeRepository:
    """Reads the tasks a person has not been told of yet, and records that they have been."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def pending(self, scope: InboxScope, username: str, kind: str, now: datetime, limit: int) -> Sequence[RowMapping]:
        """Tasks in the person's queues (visible, free or theirs) they have not been told of as `kind`."""
        mine = _in_queues(scope, username)
        if mine is None:
            return []
        told = exists().where(task_notices.c.username == username, task_notices.c.task_id == tasks.c.id,
                              task_notices.c.kind == kind)
        conditions = [mine, ~told]
        if kind == OVERDUE:
            conditions.append(tasks.c.due_at < now)
        stmt = select(tasks.c.id, tasks.c.instance_id, tasks.c.case_id, tasks.c.name, tasks.c.zone,
                      tasks.c.beneficiary_name, tasks.c.created_at, tasks.c.due_at, tasks.c.assignee)
        if scope.joins_cases:
            stmt = stmt.select_from(tasks.outerjoin(instances, instances.c.id == tasks.c.case_id))
        stmt = stmt.where(and_(*conditions)).order_by(tasks.c.created_at, tasks.c.id).limit(limit)
        return self.conn.execute(stmt).mappings().all()

    def record(self, username: str, task_ids: Sequence[str], kind: str, at: datetime) -> None:
        """Remember that the person has been told of these tasks."""
        if task_ids:
            rows = [{"username": username, "task_id": t, "kind": kind, "at": at} for t in task_ids]
            self.conn.execute(insert(task_notices), rows)

    def forget_finished(self, username: str | None = None) -> int:
        """Drop the notices of tasks that are no longer ready (of one person, or everyone's)."""
        stmt = delete(task_notices).where(~exists().where(tasks.c.id == task_notices.c.task_id))
        if username is not None:
            stmt = stmt.where(task_notices.c.username == username)
        return int(self.conn.execute(stmt).rowcount or 0)

    def badge(self, scope: InboxScope, username: str, now: datetime) -> tuple[int, int]:
        """How many tasks are in the person's queues, and how many of them are overdue."""
        stmt = _badge_stmt(scope, username)
        if stmt is None:
            return 0, 0
        total, overdue = self.conn.execute(stmt, {"b_now": now}).one()
        return int(total or 0), int(overdue or 0)

    def last_run(self, name: str) -> datetime | None:
        """When a notification pass last ran."""
        return self.conn.execute(select(notification_runs.c.last_at).where(notification_runs.c.name == name)).scalar()

    def set_last_run(self, name: str, at: datetime) -> None:
        """Record when a notification pass ran."""
        stmt = update(notification_runs).where(notification_runs.c.name == name).values(last_at=at)
        if self.conn.execute(stmt).rowcount == 0:
            self.conn.execute(insert(notification_runs).values(name=name, last_at=at))

    def next_event(self, after: datetime | None) -> datetime | None:
        """The earliest task created, or falling due, after `after` (any task at all when None)."""
        if after is None:
            return self.conn.execute(select(func.min(tasks.c.created_at))).scalar()
        created = self.conn.execute(select(func.min(tasks.c.created_at)).where(tasks.c.created_at > after)).scalar()
        due = self.conn.execute(select(func.min(tasks.c.due_at)).where(tasks.c.due_at > after)).scalar()
        return min((d for d in (created, due) if d is not None), default=None)

    def recipients(self, mode: str) -> Sequence[RowMapping]:
        """Active users with an e-mail address who chose this way of being told."""
        stmt = (
            select(users)
            .where(users.c.active.is_(True), users.c.notifications == mode, users.c.email.is_not(None),
                   users.c.email != "")
            .order_by(users.c.username)
        )
        return self.conn.execute(stmt).mappings().all()

    def any_recipient(self, mode: str) -> bool:
        """True when someone with an e-mail address chose this way of being told."""
        stmt = select(users.c.id).where(users.c.active.is_(True), users.c.notifications == mode,
                                        users.c.email.is_not(None), users.c.email != "").limit(1)
        return self.conn.execute(stmt).first() is not None


@lru_cache(maxsize=512)
def _badge_stmt(scope: InboxScope, username: str) -> Select[Any] | None:
    """The badge's statement for one person's scope (built once: it is on every page; the time is a parameter)."""
    mine = _in_queues(scope, username)
    if mine is None:
        return None
    overdue = case((tasks.c.due_at < bindparam("b_now", type_=tasks.c.due_at.type), 1), else_=0)
    source = tasks
    if scope.joins_cases:
        source = tasks.outerjoin(instances, instances.c.id == tasks.c.case_id)
    return select(func.count(), func.coalesce(func.sum(overdue), 0)).select_from(source).where(mine)


def _in_queues(scope: InboxScope, username: str) -> ColumnElement[bool] | None:
    """Visible to the person and free or assigned to them: the same rules as their inbox."""
    visible = _visible(scope)
    if visible is None:
        return None
    return and_(visible, or_(tasks.c.assignee.is_(None), tasks.c.assignee == username))

"""The inbox: one row per ready user task, so task lists never load a workflow."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, select, update

from .fastpath import HotPath
from .sealing import SubjectKeys
from .tables import tasks


class InboxRepository:
    """Projection of ready user tasks."""

    def __init__(self, conn: Connection, keys: SubjectKeys | None = None) -> None:
        self.conn = conn
        self._keys = keys  # the unit of work's case keys, which `get_for_step` reads along

    def get(self, task_id: str) -> RowMapping | None:
        """One inbox row."""
        return self.conn.execute(select(tasks).where(tasks.c.id == task_id)).mappings().first()

    def get_with_instance(self, task_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """A task and its instance's header, in one query."""
        return HotPath(self.conn).task_with_instance(task_id)

    def get_for_step(self, task_id: str) -> tuple[dict[str, Any], dict[str, Any], str | None] | None:
        """A task, its instance's header and its instance's state, in one query.

        The same query reads the case's key, which the step's audit events are sealed with.
        """
        found = HotPath(self.conn).task_for_step(task_id)
        if found is None:
            return None
        task, header, state, key = found
        if self._keys is not None:
            self._keys.know(str(header["id"]), key)
        return task, header, state

    def for_instance(self, instance_id: str) -> list[RowMapping]:
        """Ready tasks of one instance."""
        stmt = select(tasks).where(tasks.c.instance_id == instance_id).order_by(tasks.c.created_at)
        return list(self.conn.execute(stmt).mappings())

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Insert new ready tasks."""
        HotPath(self.conn).insert(tasks, rows)

    def remove(self, task_ids: Iterable[str]) -> None:
        """Delete tasks that are no longer ready."""
        HotPath(self.conn).delete_tasks(task_ids)

    def remove_as_seen(self, task_id: str, assignee: str | None) -> None:
        """Delete a task that must still exist with this assignee; ConcurrentChange otherwise."""
        HotPath(self.conn).delete_task_as_seen(task_id, assignee)

    def remove_instance(self, instance_id: str) -> None:
        """Delete every task of an instance."""
        self.conn.execute(delete(tasks).where(tasks.c.instance_id == instance_id))

    def set_assignee(self, task_id: str, assignee: str | None, expected: str | None) -> bool:
        """Claim or release, only if the current assignee is the expected one."""
        cond = tasks.c.assignee.is_(None) if expected is None else tasks.c.assignee == expected
        result = self.conn.execute(update(tasks).where(tasks.c.id == task_id, cond).values(assignee=assignee))
        return result.rowcount == 1

    def save_draft(self, task_id: str, draft: dict[str, Any] | None) -> bool:
        """Keep a half-filled form."""
        result = self.conn.execute(update(tasks).where(tasks.c.id == task_id).values(draft=draft))
        return result.rowcount == 1

    def update_case_fields(self, instance_id: str, values: dict[str, Any]) -> None:
        """Refresh denormalised case fields (e.g. a corrected name) on an instance's tasks."""
        self.conn.execute(update(tasks).where(tasks.c.case_id == instance_id).values(**values))

"""The append-only audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, select

from . import committed
from .archive import every_audit_row
from .fastpath import HotPath
from .sealing import SubjectKeys, opened, pseudonym, seal
from .tables import audit_events


class AuditRepository:
    """Appends and reads audit events; there is no update or delete.

    An event about a person's case carries the person's pseudonym instead of any identifier,
    and its data sealed under the case's key (see `sealing`): reads open it while the key exists.
    """

    def __init__(self, conn: Connection, keys: SubjectKeys | None = None) -> None:
        self.conn = conn
        self.keys = keys if keys is not None else SubjectKeys(conn)

    def record(
        self,
        at: datetime,
        actor: str,
        action: str,
        instance_id: str | None = None,
        task_id: str | None = None,
        element_id: str | None = None,
        data: Any = None,
        codice_fiscale: str | None = None,
    ) -> None:
        """Append one event (`codice_fiscale`: the person of a case whose row this transaction writes)."""
        committed.note(self.conn, action, {"element_id": element_id, "at": at, "data": data})
        subject = None
        if instance_id is not None:
            found = self.keys.for_case(instance_id, codice_fiscale, at)
            if found is not None:
                key, person = found
                subject = pseudonym(key, person)
                data = seal(key, data) if data is not None else None
        HotPath(self.conn).insert(
            audit_events,
            [
                {
                    "at": at,
                    "actor": actor,
                    "action": action,
                    "instance_id": instance_id,
                    "task_id": task_id,
                    "element_id": element_id,
                    "data": data,
                    "subject": subject,
                }
            ],
        )

    def task_completed(self, task_id: str) -> bool:
        """True when the audit log holds the completion of this task."""
        return self.completion(task_id) is not None

    def completion(self, task_id: str) -> RowMapping | None:
        """Who completed this task and when (`actor`, `at`), from the audit log; None when it was not."""
        audit_events = every_audit_row()  # an archived instance's rows too
        stmt = select(audit_events.c.actor, audit_events.c.at).where(
            audit_events.c.task_id == task_id, audit_events.c.action == "task.completed"
        )
        return self.conn.execute(stmt.limit(1)).mappings().first()

    def completions_of(self, instance_id: str, element_ids: Sequence[str]) -> Sequence[dict[str, Any]]:
        """The `task.completed` events of these elements of one instance, oldest first (element, data, at)."""
        audit_events = every_audit_row()  # an archived instance's rows too
        stmt = (select(audit_events.c.element_id, audit_events.c.data, audit_events.c.at, audit_events.c.instance_id)
                .where(audit_events.c.instance_id == instance_id, audit_events.c.action == "task.completed",
                       audit_events.c.element_id.in_(sorted(element_ids)))
                .order_by(audit_events.c.id))
        return opened(self.conn, self.conn.execute(stmt).mappings().all())

    def standing_completions(self, instance_id: str) -> list[dict[str, Any]]:
        """The `task.completed` events of one instance that no later `instance.moved` undid, oldest first."""
        audit_events = every_audit_row()  # an archived instance's rows too
        stmt = (select(audit_events.c.id, audit_events.c.action, audit_events.c.task_id, audit_events.c.element_id,
                       audit_events.c.data, audit_events.c.at, audit_events.c.instance_id)
                .where(audit_events.c.instance_id == instance_id,
                       audit_events.c.action.in_(("task.completed", "instance.moved")))
                .order_by(audit_events.c.id))
        standing: list[dict[str, Any]] = []
        for row in opened(self.conn, self.conn.execute(stmt).mappings().all()):
            if row["action"] == "task.completed":
                standing.append(row)
                continue
            undone = set((row["data"] or {}).get("undone_task_ids") or []) if isinstance(row["data"], dict) else set()
            standing = [r for r in standing if r["task_id"] not in undone]
        return standing

    def for_instance(self, instance_id: str, limit: int = 500) -> Sequence[dict[str, Any]]:
        """Events of one instance, oldest first."""
        audit_events = every_audit_row()  # an archived instance's rows too
        stmt = (
            select(audit_events)
            .where(audit_events.c.instance_id == instance_id)
            .order_by(audit_events.c.id)
            .limit(limit)
        )
        return opened(self.conn, self.conn.execute(stmt).mappings().all())

    def latest_for_instance(self, instance_id: str, action_prefix: str) -> dict[str, Any] | None:
        """The newest event of one instance whose action starts with `action_prefix`."""
        audit_events = every_audit_row()  # an archived instance's rows too
        stmt = (
            select(audit_events)
            .where(audit_events.c.instance_id == instance_id, audit_events.c.action.startswith(action_prefix))
            .order_by(audit_events.c.id.desc())
            .limit(1)
        )
        return next(iter(opened(self.conn, self.conn.execute(stmt).mappings().all())), None)

    def recent(
        self, limit: int = 100, action_prefix: str | None = None
    ) -> Sequence[dict[str, Any]]:
        """Most recent events, newest first."""
        stmt = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit)
        if action_prefix:
            stmt = stmt.where(audit_events.c.action.startswith(action_prefix))
        return opened(self.conn, self.conn.execute(stmt).mappings().all())

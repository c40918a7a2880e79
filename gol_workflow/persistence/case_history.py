"""What the case file reads of a case's audit trail: its events, the repeated ones counted per person."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from .archive import every_audit_row
from .sealing import opened
from .tables import users


class CaseHistory:
    """Reads of the audit log shaped for the case file (indexed on instance and id; archived rows included)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def events(self, case_id: str, leave_out: Collection[str], limit: int) -> Sequence[Mapping[str, Any]]:
        """The case's events oldest first, without the actions in `leave_out` (counted apart)."""
        audit_events = every_audit_row()
        stmt = (select(audit_events).where(audit_events.c.instance_id == case_id)
                .order_by(audit_events.c.id).limit(limit))
        if leave_out:
            stmt = stmt.where(audit_events.c.action.not_in(sorted(leave_out)))
        return opened(self.conn, self.conn.execute(stmt).mappings().all())

    def repeated(self, case_id: str, actions: Collection[str]) -> list[dict[str, Any]]:
        """Per person and action among `actions`: how many times and the last time, the latest first."""
        if not actions:
            return []
        audit_events = every_audit_row()
        last = func.max(audit_events.c.at).label("last_at")
        stmt = (select(audit_events.c.actor, audit_events.c.action, func.count().label("times"), last)
                .where(audit_events.c.instance_id == case_id, audit_events.c.action.in_(sorted(actions)))
                .group_by(audit_events.c.actor, audit_events.c.action)
                .order_by(last.desc(), audit_events.c.actor))
        return [dict(row) for row in self.conn.execute(stmt).mappings()]

    def completions_on(self, instance_ids: Collection[str]) -> Sequence[Mapping[str, Any]]:
        """Task completions of other instances (the meetings that discussed the case), oldest first."""
        if not instance_ids:
            return []
        audit_events = every_audit_row()
        stmt = (select(audit_events).where(audit_events.c.instance_id.in_(sorted(instance_ids)),
                                           audit_events.c.action == "task.completed")
                .order_by(audit_events.c.id))
        return opened(self.conn, self.conn.execute(stmt).mappings().all())

    def full_names(self) -> dict[str, str]:
        """Username -> the name operators know the person by (the username when the account has none)."""
        stmt = select(users.c.username, users.c.full_name)
        return {name: full or name for name, full in self.conn.execute(stmt)}

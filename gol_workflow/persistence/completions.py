"""Earlier completions of a task in one instance, read from the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from .archive import every_audit_row
from .sealing import opened


def last_completion(conn: Connection, instance_id: str, element_id: str) -> tuple[datetime, dict[str, Any]] | None:
    """When the newest completion of this task element happened in the instance, and the data submitted."""
    audit_events = every_audit_row()
    stmt = (
        select(audit_events.c.at, audit_events.c.data, audit_events.c.instance_id)
        .where(audit_events.c.instance_id == instance_id, audit_events.c.action == "task.completed",
               audit_events.c.element_id == element_id)
        .order_by(audit_events.c.id.desc())
        .limit(1)
    )
    rows = opened(conn, conn.execute(stmt).mappings().all())
    if not rows:
        return None
    payload = rows[0]["data"] if isinstance(rows[0]["data"], dict) else {}
    data = payload.get("data")
    return rows[0]["at"], dict(data) if isinstance(data, dict) else {}

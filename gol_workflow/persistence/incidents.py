"""Recent engine failures from the audit log, with the process and current status of each instance."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from .sealing import opened
from .tables import audit_events, instances


class IncidentSearch:
    """Reads `instance.error` events (indexed by time) joined to their instances."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def errors_since(self, since: datetime, limit: int) -> Sequence[dict[str, Any]]:
        """Failures recorded since a moment, newest first."""
        stmt = (
            select(audit_events.c.id, audit_events.c.at, audit_events.c.instance_id, audit_events.c.element_id,
                   audit_events.c.data, instances.c.process_id, instances.c.status,
                   instances.c.beneficiary_name)
            .join(instances, instances.c.id == audit_events.c.instance_id)
            .where(audit_events.c.at >= since, audit_events.c.action == "instance.error")
            .order_by(audit_events.c.at.desc(), audit_events.c.id.desc())
            .limit(limit)
        )
        return opened(self.conn, self.conn.execute(stmt).mappings().all())

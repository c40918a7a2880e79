"""Incidents: an instance's error from its first failure to its resolution, with comments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from .tables import incident_comments, incidents, instances, process_versions

OPEN = "open"
RESOLVED = "resolved"


class IncidentSearch:
    """Reads and writes incidents and their comments."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- incidents ---------------------------------------------------------------------------

    def open_of(self, instance_id: str) -> RowMapping | None:
        """The instance's open incident, if any."""
        stmt = select(incidents).where(incidents.c.instance_id == instance_id, incidents.c.status == OPEN)
        return self.conn.execute(stmt.order_by(incidents.c.id.desc()).limit(1)).mappings().first()

    def add(self, values: dict[str, Any]) -> int:
        """Store a new incident; its id."""
        result = self.conn.execute(insert(incidents).values(**values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def update(self, incident_id: int, values: dict[str, Any], only_open: bool = False) -> bool:
        """Change an incident (only while open, when asked); False when nothing matched."""
        stmt = update(incidents).where(incidents.c.id == incident_id)
        if only_open:
            stmt = stmt.where(incidents.c.status == OPEN)
        return self.conn.execute(stmt.values(**values)).rowcount == 1

    def _with_instance(self) -> Any:
        return (select(incidents, instances.c.status.label("instance_status"), instances.c.beneficiary_name,
                       instances.c.zone, instances.c.current_step, instances.c.suspended_status,
                       process_versions.c.version)
                .join(instances, instances.c.id == incidents.c.instance_id)
                .join(process_versions, process_versions.c.id == incidents.c.process_version_id))

    def get(self, incident_id: int) -> RowMapping | None:
        """One incident with its instance's status and name and its process version number."""
        return self.conn.execute(self._with_instance().where(incidents.c.id == incident_id)).mappings().first()

    def search(self, status: str | None, process_id: str | None, version_id: int | None, element_id: str | None,
               kind: str | None, assignee: str | None, limit: int, offset: int) -> tuple[Sequence[RowMapping], int]:
        """Incidents matching the filters, the latest failure first, and how many match."""
        conds = []
        if status:
            conds.append(incidents.c.status == status)
        if process_id:
            conds.append(incidents.c.process_id == process_id)
        if version_id is not None:
            conds.append(incidents.c.process_version_id == version_id)
        if element_id:
            conds.append(incidents.c.element_id == element_id)
        if kind:
            conds.append(incidents.c.kind == kind)
        if assignee:
            conds.append(incidents.c.assignee == assignee)
        stmt = (self._with_instance().where(*conds)
                .order_by(incidents.c.last_failed_at.desc(), incidents.c.id.desc()).limit(limit).offset(offset))
        total = self.conn.execute(select(func.count()).select_from(incidents).where(*conds)).scalar_one()
        return self.conn.execute(stmt).mappings().all(), int(total)

    def groups(self, status: str) -> Sequence[RowMapping]:
        """Incidents of one status grouped by process version, element and kind, the latest failure first."""
        last = func.max(incidents.c.last_failed_at).label("last_failed_at")
        stmt = (select(incidents.c.process_id, incidents.c.process_version_id, process_versions.c.version,
                       incidents.c.element_id, func.max(incidents.c.element_name).label("element_name"),
                       incidents.c.kind, func.count().label("count"), func.sum(incidents.c.attempts).label("attempts"),
                       func.min(incidents.c.opened_at).label("first_at"), last)
                .join(process_versions, process_versions.c.id == incidents.c.process_version_id)
                .where(incidents.c.status == status)
                .group_by(incidents.c.process_id, incidents.c.process_version_id, process_versions.c.version,
                          incidents.c.element_id, incidents.c.kind)
                .order_by(last.desc()))
        return self.conn.execute(stmt).mappings().all()

    def in_group(self, version_id: int, element_id: str | None, kind: str, limit: int) -> list[int]:
        """The ids of the open incidents of a group, oldest first."""
        element = incidents.c.element_id.is_(None) if element_id is None else incidents.c.element_id == element_id
        stmt = (select(incidents.c.id).where(incidents.c.process_version_id == version_id, element,
                                             incidents.c.kind == kind, incidents.c.status == OPEN)
                .order_by(incidents.c.id).limit(limit))
        return [int(i) for i in self.conn.execute(stmt).scalars()]

    def comments(self, incident_id: int) -> Sequence[RowMapping]:
        """The comments on an incident, oldest first."""
        stmt = (select(incident_comments).where(incident_comments.c.incident_id == incident_id)
                .order_by(incident_comments.c.id))
        return self.conn.execute(stmt).mappings().all()

    def add_comment(self, incident_id: int, at: datetime, author: str, text: str) -> None:
        """Keep a comment on an incident."""
        self.conn.execute(insert(incident_comments).values(incident_id=incident_id, at=at, author=author, text=text))

"""Deployed process versions (immutable once written)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select

from .fastpath import HotPath
from .tables import instances, process_versions

_HEADER = [c for c in process_versions.c if c.name != "files"]


class VersionRepository:
    """Reads and appends process versions."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def latest(self, process_id: str) -> RowMapping | None:
        """The newest version of a process (with its files)."""
        stmt = (
            select(process_versions)
            .where(process_versions.c.process_id == process_id)
            .order_by(process_versions.c.version.desc())
            .limit(1)
        )
        return self.conn.execute(stmt).mappings().first()

    def latest_id(self, process_id: str) -> int | None:
        """Id of the newest version of a process (cheap: no files)."""
        return HotPath(self.conn).latest_version_id(process_id)  # every start of an instance asks it

    def expect_latest(self, process_id: str, version_id: int) -> None:
        """Fail the transaction (ConcurrentChange) unless this is still the newest version of the process."""
        HotPath(self.conn).expect_latest_version(process_id, version_id)

    def get(self, version_id: int) -> RowMapping | None:
        """One version (with its files)."""
        return self.conn.execute(select(process_versions).where(process_versions.c.id == version_id)).mappings().first()

    def find(self, process_id: str, version: int) -> RowMapping | None:
        """A version by process id and number."""
        stmt = select(process_versions).where(
            process_versions.c.process_id == process_id, process_versions.c.version == version
        )
        return self.conn.execute(stmt).mappings().first()

    def add(self, values: dict[str, Any]) -> int:
        """Store a new version; returns its id."""
        result = self.conn.execute(insert(process_versions).values(**values))
        return int(result.inserted_primary_key[0])

    def list_all(self) -> Sequence[RowMapping]:
        """Every version (without files) with its instance count, newest first per process."""
        counts = (
            select(instances.c.process_version_id, func.count().label("instances"))
            .group_by(instances.c.process_version_id)
            .subquery()
        )
        stmt = (
            select(*_HEADER, func.coalesce(counts.c.instances, 0).label("instances"))
            .outerjoin(counts, counts.c.process_version_id == process_versions.c.id)
            .order_by(process_versions.c.process_id, process_versions.c.version.desc())
        )
        return self.conn.execute(stmt).mappings().all()

    def latest_headers(self) -> Sequence[RowMapping]:
        """The newest version of every process (without files and counts: cheap)."""
        newest = (
            select(process_versions.c.process_id, func.max(process_versions.c.version).label("version"))
            .group_by(process_versions.c.process_id)
            .subquery()
        )
        stmt = select(*_HEADER).join(
            newest,
            (newest.c.process_id == process_versions.c.process_id) & (newest.c.version == process_versions.c.version),
        )
        return self.conn.execute(stmt).mappings().all()

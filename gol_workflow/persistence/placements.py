"""Placements of a case and the zones' register of operators' meetings: plain rows, added and listed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, bindparam, select

from .tables import operator_meetings, placements


@cache
def _of_case_stmt() -> Select[Any]:
    """A case's placements, earliest start first (built once: the case file reads them on every view)."""
    return (select(placements).where(placements.c.case_id == bindparam("b_case_id"))
            .order_by(placements.c.start_date, placements.c.id))


class PlacementRepository:
    """Writes and reads of `placements`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, values: Mapping[str, Any]) -> int:
        """Record one placement; returns its id."""
        return int(self.conn.execute(placements.insert().values(**values)).inserted_primary_key[0])

    def of_case(self, case_id: str) -> list[RowMapping]:
        """A case's placements, earliest start first."""
        return list(self.conn.execute(_of_case_stmt(), {"b_case_id": case_id}).mappings())


class OperatorMeetingRepository:
    """Writes and reads of `operator_meetings`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, values: Mapping[str, Any]) -> int:
        """Record one meeting; returns its id."""
        return int(self.conn.execute(operator_meetings.insert().values(**values)).inserted_primary_key[0])

    def of_zones(self, zones: list[str], since: date | None, until: date | None, limit: int = 200) -> list[RowMapping]:
        """Meetings of these zones held in [since, until], latest first."""
        stmt = select(operator_meetings).where(operator_meetings.c.zone.in_(zones))
        if since is not None:
            stmt = stmt.where(operator_meetings.c.held_on >= since)
        if until is not None:
            stmt = stmt.where(operator_meetings.c.held_on <= until)
        stmt = stmt.order_by(operator_meetings.c.held_on.desc(), operator_meetings.c.id.desc()).limit(limit)
        return list(self.conn.execute(stmt).mappings())

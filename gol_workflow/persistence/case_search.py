"""Finding cases (instances) by the person they are about, and what a case still holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from .fastpath import HotPath
from .meetings import PLANNED
from .tables import instances


class CaseSearch:
    """Lookups on the indexed beneficiary columns of instances."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def ids_by_codice_fiscale(self, codice_fiscale: str, process_id: str | None = None) -> list[str]:
        """Cases of one person, oldest first."""
        stmt = select(instances.c.id).where(instances.c.codice_fiscale == codice_fiscale.upper())
        if process_id:
            stmt = stmt.where(instances.c.process_id == process_id)
        return list(self.conn.execute(stmt.order_by(instances.c.started_at)).scalars())

    def has_loose_ends(self, case_id: str, correlation: str, after: datetime) -> bool:
        """Whether a case keeps messages, future bookings or a place on a planned agenda (one query)."""
        return HotPath(self.conn).has_loose_ends(case_id, correlation, after, PLANNED)  # every case that ends asks it

    def expect_no_loose_ends(self, case_id: str, correlation: str, after: datetime) -> None:
        """Fail the transaction (ConcurrentChange) if the case has loose ends; checked with its writes."""
        HotPath(self.conn).expect_no_loose_ends(case_id, correlation, after, PLANNED)

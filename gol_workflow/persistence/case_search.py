"""Finding cases (instances) by the person they are about."""

from __future__ import annotations

from sqlalchemy import Connection, select

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

"""The case record table: written with each step (joining its statement on PostgreSQL), read by the case list."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Connection, Date, RowMapping, select, update

from . import write_behind
from .fastpath import _adapter  # the same conversions as every other hot-path write
from .tables import cases
from .write_behind import Join

COUNT_COLUMNS = ("monitorings", "substantial_changes")
# Set when the row is created, never changed by a step.
FIXED_COLUMNS = ("id", "process_id", "opened_at")


def _date_text(value: date | None) -> str | None:
    # The text SQLAlchemy's SQLite DATE type writes and reads.
    return None if value is None else value.isoformat()


@cache
def _upsert(columns: tuple[str, ...], dialect: str) -> tuple[str, tuple[Any, ...]]:
    """INSERT … ON CONFLICT DO UPDATE that changes the row only when a fact differs or a count moves."""
    mark = "?" if dialect == "sqlite" else "%s"
    differs = "NOT (cases.{0} IS excluded.{0})" if dialect == "sqlite" else "cases.{0} IS DISTINCT FROM excluded.{0}"
    settable = [c for c in columns if c not in FIXED_COLUMNS and c != "updated_at"]
    sets = [f"{c} = cases.{c} + excluded.{c}" if c in COUNT_COLUMNS else f"{c} = excluded.{c}" for c in settable]
    sets.append("updated_at = excluded.updated_at")
    changed = [f"excluded.{c} <> 0" if c in COUNT_COLUMNS else differs.format(c) for c in settable]
    sql = (
        f"INSERT INTO cases ({', '.join(columns)}) VALUES ({', '.join(mark for _ in columns)}) "
        f"ON CONFLICT (id) DO UPDATE SET {', '.join(sets)} WHERE {' OR '.join(changed) or 'false'}"
    )
    adapters = []
    for column in columns:
        if isinstance(cases.c[column].type, Date):
            adapters.append(_date_text if dialect == "sqlite" else None)
        else:
            adapters.append(_adapter(cases, column, dialect))
    return sql, tuple(adapters)


class CaseRecords:
    """Writes and reads of the `cases` table."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name

    def upsert(self, values: Mapping[str, Any]) -> None:
        """Create the record or change the facts given (counts in `values` are increments).

        On PostgreSQL the statement waits and travels with the step's other writes.
        """
        columns = tuple(values)
        sql, adapters = _upsert(columns, self.dialect)
        params = [adapt(values[c]) if adapt is not None else values[c] for c, adapt in zip(columns, adapters)]
        behind = write_behind.active(self.conn)
        if behind is not None:
            behind.write(Join(sql, tuple(params), frozenset({("cases", values["id"])})))
            return
        cursor = self.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, params)
        finally:
            cursor.close()

    def set_status(self, case_id: str, status: str, updated_at: Any) -> None:
        """Mirror a status changed outside a workflow step (suspension)."""
        self.conn.execute(update(cases).where(cases.c.id == case_id).values(status=status, updated_at=updated_at))

    def get(self, case_id: str) -> RowMapping | None:
        """One record."""
        return self.conn.execute(select(cases).where(cases.c.id == case_id)).mappings().first()

    def replace(self, values: Mapping[str, Any]) -> None:
        """Write a whole record as rebuilt (insert, or overwrite every column)."""
        exists = self.conn.execute(select(cases.c.id).where(cases.c.id == values["id"])).first()
        if exists is None:
            self.conn.execute(cases.insert().values(**values))
        else:
            fields = {k: v for k, v in values.items() if k != "id"}
            self.conn.execute(update(cases).where(cases.c.id == values["id"]).values(**fields))

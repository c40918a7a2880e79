"""Writes on the hot path of every workflow step, straight on the DBAPI cursor.

SQLAlchemy Core costs ~70 µs of Python per statement; a workflow step writes four or five
rows, so its overhead was a third of a step. These statements are generated once per
column set from the same `Table` metadata (column names, UTC datetime and JSON columns),
so the rows are exactly those SQLAlchemy would write and reads through SQLAlchemy see them.
They run on the unit of work's own connection, inside its transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table

from .tables import audit_events, instances, tasks
from .types import JsonText, UtcDateTime, dump_json

Adapter = Callable[[Any], Any]


def _sqlite_datetime(value: datetime | None) -> str | None:
    # The text format SQLAlchemy's SQLite DATETIME type writes and parses.
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored: use aware UTC")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetimes are not stored: use aware UTC")
    return value


def _json(value: Any) -> str | None:
    return None if value is None else dump_json(value)


def _adapter(table: Table, column: str, dialect: str) -> Adapter | None:
    kind = table.c[column].type
    if isinstance(kind, UtcDateTime):
        return _sqlite_datetime if dialect == "sqlite" else _aware
    if isinstance(kind, JsonText):
        return _json
    return None


class _Statement:
    """SQL text plus the adapters for its parameters, in order."""

    __slots__ = ("sql", "names", "adapters")

    def __init__(self, sql: str, names: Sequence[str], adapters: Sequence[Adapter | None]) -> None:
        self.sql = sql
        self.names = tuple(names)
        self.adapters = tuple(adapters)

    def row(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """Positional parameters for one row."""
        return tuple(
            adapt(params[name]) if adapt is not None else params[name]
            for name, adapt in zip(self.names, self.adapters, strict=True)
        )


def _placeholder(dialect: str) -> str:
    return "?" if dialect == "sqlite" else "%s"


@cache
def _insert(table_name: str, columns: tuple[str, ...], dialect: str) -> _Statement:
    table = _TABLES[table_name]
    marks = ", ".join(_placeholder(dialect) for _ in columns)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
    return _Statement(sql, columns, [_adapter(table, c, dialect) for c in columns])


@cache
def _update_instance(columns: tuple[str, ...], dialect: str) -> _Statement:
    mark = _placeholder(dialect)
    sets = ", ".join(f"{c} = {mark}" for c in columns)
    sql = f"UPDATE instances SET {sets} WHERE id = {mark} AND row_version = {mark}"
    adapters = [_adapter(instances, c, dialect) for c in columns] + [None, None]
    return _Statement(sql, [*columns, "b_id", "b_version"], adapters)


@cache
def _delete_task(dialect: str) -> str:
    return f"DELETE FROM tasks WHERE id = {_placeholder(dialect)}"


_TABLES = {t.name: t for t in (instances, tasks, audit_events)}


class FastWriter:
    """Hot-path inserts, updates and deletes on a unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._dialect = conn.dialect.name

    def _cursor(self) -> Any:
        return self._conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    def insert(self, table: Table, rows: Iterable[Mapping[str, Any]]) -> None:
        """Insert rows (all with the same keys)."""
        rows = list(rows)
        if not rows:
            return
        statement = _insert(table.name, tuple(rows[0]), self._dialect)
        cursor = self._cursor()
        try:
            if len(rows) == 1:
                cursor.execute(statement.sql, statement.row(rows[0]))
            else:
                cursor.executemany(statement.sql, [statement.row(r) for r in rows])
        finally:
            cursor.close()

    def update_instance(
        self, instance_id: str, expected_version: int, values: Mapping[str, Any]
    ) -> Callable[[], bool]:
        """Optimistic update of one instance row.

        Returns a check that answers False when someone else wrote first; in pipeline mode
        call it only after the pipeline has ended.
        """
        params = {**values, "row_version": expected_version + 1, "b_id": instance_id, "b_version": expected_version}
        statement = _update_instance(tuple(k for k in params if not k.startswith("b_")), self._dialect)
        cursor = self._cursor()
        cursor.execute(statement.sql, statement.row(params))

        def updated() -> bool:
            try:
                return bool(cursor.rowcount == 1)
            finally:
                cursor.close()

        return updated

    def delete_tasks(self, task_ids: Iterable[str]) -> None:
        """Delete inbox rows by id."""
        ids = [(task_id,) for task_id in task_ids]
        if not ids:
            return
        cursor = self._cursor()
        try:
            cursor.executemany(_delete_task(self._dialect), ids)
        finally:
            cursor.close()

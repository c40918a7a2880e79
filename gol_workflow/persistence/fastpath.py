"""Reads and writes on the hot path of every workflow step, straight on the DBAPI cursor.

SQLAlchemy Core costs ~70 µs of Python per statement; a workflow step writes four or five
rows, so its overhead was a third of a step. These statements are generated once per
column set from the same `Table` metadata (column names, UTC datetime and JSON columns),
so the rows are exactly those SQLAlchemy would write and reads through SQLAlchemy see them.
They run on the unit of work's own connection, inside its transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Column, Connection, Table

from ..domain.errors import ConcurrentChange
from . import write_behind
from .errors import DuplicateRow
from .tables import INSTANCE_HEADER, api_tokens, audit_events, instances, subject_keys, tasks, users
from .types import JsonText, UtcDateTime, dump_json
from .write_behind import Join

Adapter = Callable[[Any], Any]


def _sqlite_datetime(value: datetime | None) -> str | None:
    # The text format SQLAlchemy's SQLite DATETIME type writes and parses.
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored: use aware UTC")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _datetime_from_sqlite(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _datetime_from_postgres(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _json_from_text(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetimes are not stored: use aware UTC")
    return value


def _json(value: Any) -> str | None:
    return None if value is None else dump_json(value)


def _reader(column: Column[Any], dialect: str) -> Adapter | None:
    if isinstance(column.type, UtcDateTime):
        return _datetime_from_sqlite if dialect == "sqlite" else _datetime_from_postgres
    if isinstance(column.type, JsonText):
        return _json_from_text
    return None


def _adapter(table: Table, column: str, dialect: str) -> Adapter | None:
    kind = table.c[column].type
    if isinstance(kind, UtcDateTime):
        return _sqlite_datetime if dialect == "sqlite" else _aware
    if isinstance(kind, JsonText):
        return _json
    return None


class _Statement:
    """SQL text plus the adapters for its parameters, in order."""

    __slots__ = ("sql", "names", "_adapted")

    def __init__(self, sql: str, names: Sequence[str], adapters: Sequence[Adapter | None]) -> None:
        self.sql = sql
        self.names = tuple(names)
        # Only the few columns that need converting are visited per row.
        self._adapted = tuple((i, adapt) for i, adapt in enumerate(adapters) if adapt is not None)

    def row(self, params: Mapping[str, Any]) -> list[Any]:
        """Positional parameters for one row."""
        values = [params[name] for name in self.names]
        for i, adapt in self._adapted:
            values[i] = adapt(values[i])
        return values


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


_DELETE_TASKS_MEMBER = "DELETE FROM tasks WHERE id = ANY(%s)"


@cache
def _delete_task_as_seen(dialect: str) -> str:
    mark = _placeholder(dialect)
    # SQLite spells IS NOT DISTINCT FROM as IS.
    same = "IS" if dialect == "sqlite" else "IS NOT DISTINCT FROM"
    return f"DELETE FROM tasks WHERE id = {mark} AND assignee {same} {mark}"


@cache
def _delete_task(dialect: str) -> str:
    return f"DELETE FROM tasks WHERE id = {_placeholder(dialect)}"


@cache
def _latest_version_id(dialect: str) -> str:
    return (f"SELECT id FROM process_versions WHERE process_id = {_placeholder(dialect)} "
            "ORDER BY version DESC LIMIT 1")


@cache
def _still_latest() -> str:
    # PostgreSQL, as a WITH member: one row when the version is still the newest of its process.
    return f"SELECT 1 FROM ({_latest_version_id('postgresql')}) latest WHERE latest.id = %s"


@cache
def _loose_ends(dialect: str) -> str:
    mark = _placeholder(dialect)
    return (
        f"SELECT EXISTS (SELECT 1 FROM pending_messages WHERE correlation = {mark}) "
        f"OR EXISTS (SELECT 1 FROM bookings WHERE case_id = {mark} AND slot_at > {mark}) "
        "OR EXISTS (SELECT 1 FROM meeting_agenda a JOIN meetings m ON m.id = a.meeting_id "
        f"WHERE a.case_id = {mark} AND m.status = {mark})"
    )


@cache
def _no_loose_ends() -> str:
    # PostgreSQL, as a WITH member: one row when the case has no loose ends.
    return f"SELECT 1 WHERE NOT ({_loose_ends('postgresql')})"


_TABLES = {t.name: t for t in (instances, tasks, audit_events, subject_keys)}


class _Query:
    """A SELECT with the key and converter of each result column."""

    __slots__ = ("sql", "keys", "readers")

    def __init__(self, sql: str, keys: Sequence[str], readers: Sequence[Adapter | None]) -> None:
        self.sql = sql
        self.keys = tuple(keys)
        self.readers = tuple(readers)

    def row(self, values: Sequence[Any]) -> dict[str, Any]:
        """One result row as a dict of Python values."""
        return {
            key: (read(value) if read is not None and value is not None else value)
            for key, read, value in zip(self.keys, self.readers, values, strict=True)
        }


@cache
def _task_with_instance(dialect: str) -> tuple[_Query, _Query]:
    # One SELECT; its columns read back as two rows: the task's, then its instance header's.
    task_columns = list(tasks.c)
    select_list = [f"t.{c.name}" for c in task_columns] + [f"i.{c.name}" for c in INSTANCE_HEADER]
    sql = (
        f"SELECT {', '.join(select_list)} FROM tasks t JOIN instances i ON i.id = t.instance_id "
        f"WHERE t.id = {_placeholder(dialect)}"
    )
    task = _Query(sql, [c.name for c in task_columns], [_reader(c, dialect) for c in task_columns])
    header = _Query(sql, [c.name for c in INSTANCE_HEADER], [_reader(c, dialect) for c in INSTANCE_HEADER])
    return task, header


@cache
def _task_for_step(dialect: str) -> tuple[_Query, _Query]:
    # The step's first read: the task, its instance's header, the instance's state (an archived
    # instance's from the archive) and its case's key, which the step's audit events need.
    task, header = _task_with_instance(dialect)
    state = "coalesce(nullif(i.state, ''), (SELECT a.state FROM archived_states a WHERE a.instance_id = i.id))"
    select_list, _, rest = task.sql.partition(" FROM tasks t JOIN instances i ON i.id = t.instance_id ")
    sql = (f"{select_list}, {state}, k.key, k.codice_fiscale FROM tasks t JOIN instances i ON i.id = t.instance_id "
           f"LEFT JOIN subject_keys k ON k.instance_id = i.id {rest}")
    return _Query(sql, task.keys, task.readers), header


@cache
def _live_token(dialect: str) -> _Query:
    # A token not revoked whose account is active, with what an authenticated request needs.
    columns = [("id", api_tokens.c.id), ("last_used_at", api_tokens.c.last_used_at), ("user_id", users.c.id),
               ("username", users.c.username), ("role", users.c.role), ("zones", users.c.zones),
               ("services", users.c.services)]
    sql = ("SELECT t.id, t.last_used_at, u.id, u.username, u.role, u.zones, u.services FROM api_tokens t "
           f"JOIN users u ON u.id = t.user_id WHERE t.token_hash = {_placeholder(dialect)} "
           "AND t.revoked_at IS NULL AND u.active")
    return _Query(sql, [key for key, _ in columns], [_reader(column, dialect) for _, column in columns])


class HotPath:
    """Hot-path reads and writes on a unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._dialect = conn.dialect.name
        self._behind = write_behind.active(conn)

    def _cursor(self) -> Any:
        return self._conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    def _write(self, sql: str, rows: list[Sequence[Any]], join: Callable[[], Join]) -> None:
        """Run one statement for one or more rows, or queue it (as `join` makes it) when writes are sent behind."""
        if self._behind is not None:
            self._behind.write(join())
            return
        cursor = self._cursor()
        try:
            if len(rows) == 1:
                cursor.execute(sql, rows[0])
            else:
                cursor.executemany(sql, rows)
        except self._conn.dialect.loaded_dbapi.IntegrityError as exc:
            raise DuplicateRow(str(exc).splitlines()[0]) from exc
        finally:
            cursor.close()

    def insert(self, table: Table, rows: Iterable[Mapping[str, Any]]) -> None:
        """Insert rows (all with the same keys)."""
        rows = list(rows)
        if not rows:
            return
        columns = tuple(rows[0])
        statement = _insert(table.name, columns, self._dialect)
        values = [statement.row(r) for r in rows]

        def join() -> Join:
            head, values_word, marks = statement.sql.partition("VALUES ")
            keys = frozenset((table.name, r["id"]) for r in rows if r.get("id") is not None)
            flat = tuple(v for row in values for v in row)
            return Join(head + values_word, flat, keys, values=marks, rows=len(values))

        self._write(statement.sql, values, join)

    def update_instance(self, instance_id: str, expected_version: int, values: Mapping[str, Any]) -> bool:
        """Optimistic update of one instance row; False when someone else wrote first.

        With writes sent behind the check is the server's: a lost race raises
        ConcurrentChange when the writes are sent, and this answers True.
        """
        params = {**values, "row_version": expected_version + 1, "b_id": instance_id, "b_version": expected_version}
        columns = tuple(k for k in params if not k.startswith("b_"))
        statement = _update_instance(columns, self._dialect)
        if self._behind is not None:
            self._behind.write(Join(statement.sql + " RETURNING 1", tuple(statement.row(params)),
                                    frozenset({("instances", instance_id)}), must_match=f"instance {instance_id}"))
            return True
        cursor = self._cursor()
        try:
            cursor.execute(statement.sql, statement.row(params))
            return bool(cursor.rowcount == 1)
        finally:
            cursor.close()

    def latest_version_id(self, process_id: str) -> int | None:
        """Id of the newest deployed version of a process."""
        value = self._scalar(_latest_version_id(self._dialect), (process_id,))
        return None if value is None else int(value)

    def expect_latest_version(self, process_id: str, version_id: int) -> None:
        """ConcurrentChange unless `version_id` is still the newest version of the process.

        With writes sent behind the check travels with them and the server makes it.
        """
        if self._behind is not None:
            self._behind.write(Join(_still_latest(), (process_id, version_id), frozenset(),
                                    must_match=f"process {process_id}"))
            return
        if self.latest_version_id(process_id) != version_id:
            raise ConcurrentChange()

    def has_loose_ends(self, case_id: str, correlation: str, after: datetime, planned: str) -> bool:
        """Whether messages wait for the case, it holds bookings after `after` or sits on a planned agenda."""
        moment = _sqlite_datetime(after) if self._dialect == "sqlite" else _aware(after)
        return bool(self._scalar(_loose_ends(self._dialect), (correlation, case_id, moment, case_id, planned)))

    def expect_no_loose_ends(self, case_id: str, correlation: str, after: datetime, planned: str) -> None:
        """ConcurrentChange if the case has loose ends (see `has_loose_ends`).

        With writes sent behind the question travels with them and the server answers it.
        """
        if self._behind is None:
            if self.has_loose_ends(case_id, correlation, after, planned):
                raise ConcurrentChange()
            return
        params = (correlation, case_id, _aware(after), case_id, planned)
        self._behind.write(Join(_no_loose_ends(), params, frozenset(), must_match=f"case {case_id}"))

    def _scalar(self, sql: str, params: Sequence[Any]) -> Any:
        """The first column of the first row of a query (None when there is none)."""
        values = self._row(sql, params)
        return None if values is None else values[0]

    def task_with_instance(self, task_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """A task row and its instance's header, or None."""
        task, header = _task_with_instance(self._dialect)
        values = self._row(task.sql, (task_id,))
        if values is None:
            return None
        split = len(task.keys)
        return task.row(values[:split]), header.row(values[split:])

    def task_for_step(
        self, task_id: str
    ) -> tuple[dict[str, Any], dict[str, Any], str | None, tuple[bytes, str] | None] | None:
        """A task row, its instance's header and state, and the case's key with its person (None: no key)."""
        task, header = _task_for_step(self._dialect)
        values = self._row(task.sql, (task_id,))
        if values is None:
            return None
        split, end = len(task.keys), len(task.keys) + len(header.keys)
        state, key, person = values[end:]
        found = (bytes(key), str(person)) if key is not None else None
        return task.row(values[:split]), header.row(values[split:end]), state, found

    def live_token(self, token_hash: str) -> dict[str, Any] | None:
        """The live token with this hash and its account's name, role, zones and services, or None."""
        query = _live_token(self._dialect)
        values = self._row(query.sql, (token_hash,))
        return None if values is None else query.row(values)

    def _row(self, sql: str, params: Sequence[Any]) -> Sequence[Any] | None:
        """The first row of a query, or None."""
        if self._behind is not None:
            cursor = self._behind.read(sql, params)
        else:
            cursor = self._cursor()
            cursor.execute(sql, params)
        try:
            return cursor.fetchone()  # type: ignore[no-any-return]
        finally:
            cursor.close()

    def delete_task_as_seen(self, task_id: str, assignee: str | None) -> None:
        """Delete a task that must still have this assignee; ConcurrentChange when it does not.

        With writes sent behind the check is the server's, as for the instance update.
        """
        if self._behind is not None:
            self._behind.write(Join(_delete_task_as_seen("postgresql") + " RETURNING 1", (task_id, assignee),
                                    frozenset({("tasks", task_id)}), must_match=f"task {task_id}"))
            return
        cursor = self._cursor()
        try:
            cursor.execute(_delete_task_as_seen(self._dialect), (task_id, assignee))
            if cursor.rowcount != 1:
                raise ConcurrentChange()
        finally:
            cursor.close()

    def delete_tasks(self, task_ids: Iterable[str]) -> None:
        """Delete inbox rows by id."""
        ids = [(task_id,) for task_id in task_ids]
        if ids:
            self._write(_delete_task(self._dialect), ids, lambda: Join(
                _DELETE_TASKS_MEMBER, ([i for (i,) in ids],), frozenset(("tasks", i) for (i,) in ids)))

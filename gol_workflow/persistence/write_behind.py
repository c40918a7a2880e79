"""PostgreSQL: a step's writes wait and travel to the server with the transaction's next round trip.

On loopback a round trip costs more than the statements it carries, and a workflow step
used four: BEGIN, the read of the task, the pipelined writes, COMMIT. Here a unit of work
reads in autocommit and opens its transaction only when it writes (or locks): under READ
COMMITTED each statement takes its own snapshot anyway, so a plain SELECT sees exactly
what it would see inside a transaction. The writes wait and go with the commit, the
transaction is open only while they are sent, and a unit of work that wrote nothing has
nothing to roll back (psycopg discards its prepared statements on every rollback). The
driver runs in autocommit mode and a transaction is opened and closed by these
statements; SQLAlchemy's own statements send what waits first (see `install`), so
statements reach the server in the order the code issued them.

Each waiting write is a `Join`: a WITH member. At the commit they travel as one statement
whose members are the writes and whose SELECT runs their checks; sent as the unit of work's
only statement, it is its own transaction: no BEGIN, no COMMIT, no pipeline, one round trip.
A write that needs an answer cannot wait for it, so it checks itself on the server instead:
the optimistic update of an instance must return one row, or `gol_expect_one_row`
(migration 0002) aborts the statement and nothing of the step is kept. PostgreSQL runs WITH
members on one snapshot, in no set order, so writes that touch the same row (whose outcome
depends on their order) are sent one by one instead, inside BEGIN and COMMIT.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, Engine, event

from ..domain.errors import ConcurrentChange
from .errors import DuplicateRow

KEY = "gol.write_behind"


EXPECT_ONE_ROW = "gol_expect_one_row((SELECT count(*) FROM {member}), %s)"


@dataclass(frozen=True, slots=True)
class Join:
    """A waiting write as a WITH member of one statement with the others.

    An insert gives its SQL up to VALUES as `sql` and one row's marks as `values`, so that
    inserts into one table merge into a single member and keep their order.
    """

    sql: str
    params: tuple[Any, ...]
    keys: frozenset[tuple[str, Any]]  # (table, primary key) of every existing or new row it touches
    values: str = ""
    rows: int = 0
    # When set, the member must yield exactly one row, or the whole statement fails with
    # ConcurrentChange ("<must_match> was changed by another transaction", `gol_expect_one_row`).
    must_match: str = ""

    def text(self) -> str:
        """The member's SQL."""
        return self.sql + ", ".join([self.values] * self.rows) if self.values else self.sql


def joined(joins: Sequence[Join]) -> tuple[str, list[Any]] | None:
    """One statement doing all the writes, or None when two of them touch the same row."""
    touched: set[tuple[str, Any]] = set()
    members: list[Join] = []
    inserts: dict[str, int] = {}
    for join in joins:
        if not touched.isdisjoint(join.keys):
            return None
        touched |= join.keys
        at = inserts.get(join.sql) if join.values else None
        if at is None:
            if join.values:
                inserts[join.sql] = len(members)
            members.append(join)
        else:
            first = members[at]
            members[at] = replace(first, params=first.params + join.params, rows=first.rows + join.rows)
    return statement(members)


def statement(members: Sequence[Join]) -> tuple[str, list[Any]]:
    """The members as one statement (a lone member without a check as it is), with its parameters."""
    if len(members) == 1 and not members[0].must_match:
        return members[0].text(), list(members[0].params)
    params: list[Any] = []
    checks: list[str] = []
    for i, member in enumerate(members):
        params.extend(member.params)
        if member.must_match:
            checks.append(EXPECT_ONE_ROW.format(member=f"w{i}"))
    params.extend(member.must_match for member in members if member.must_match)
    body = ", ".join(f"w{i} AS ({member.text()})" for i, member in enumerate(members))
    return f"WITH {body} SELECT {', '.join(checks) or '1'}", params


class WriteBehind:
    """The statements of one transaction not yet sent, and whether BEGIN has been."""

    def __init__(self, dbapi_connection: Any) -> None:
        self._dbapi = dbapi_connection
        self._queue: list[Join] = []
        self.begun = False

    def write(self, join: Join) -> None:
        """Queue one write."""
        self._queue.append(join)

    def read(self, sql: str, params: Sequence[Any]) -> Any:
        """Send what waits plus one query in a single round trip; returns the query's cursor."""
        cursor = self._dbapi.cursor()
        if not self.begun and not self._queue:
            cursor.execute(sql, params)  # nothing written yet: no transaction to open
        else:
            self._send(extra=(cursor, sql, params))
        return cursor

    def flush(self) -> None:
        """Send what waits (opening the transaction if needed)."""
        if self._queue or not self.begun:
            self._send()

    def before(self, statement: str) -> None:
        """Called before SQLAlchemy runs `statement` on this connection."""
        if self._queue:
            self._send()
        elif not self.begun and not _plain_select(statement):
            self._send()

    def commit(self) -> None:
        """Send what waits and COMMIT, in one round trip."""
        if not self.begun and not self._queue:
            return  # nothing was read or written: there is no transaction to end
        self._send(commit=True)

    def discard(self) -> None:
        """Forget what waits (the transaction is being rolled back)."""
        self._queue.clear()

    def _send(self, extra: tuple[Any, str, Sequence[Any]] | None = None, commit: bool = False) -> None:
        statements = self._statements()
        begin = not self.begun
        if commit and begin and extra is None and len(statements) == 1:
            begin = commit = False  # one statement is a transaction of its own
        self.begun = self.begun or begin
        count = begin + len(statements) + (extra is not None) + commit
        cursor = self._dbapi.cursor()
        try:
            if count == 1:
                self._run(cursor, begin, statements, extra, commit)
            else:
                with self._dbapi.pipeline():
                    self._run(cursor, begin, statements, extra, commit)
        except Exception as exc:
            _translate(exc)
            raise
        finally:
            cursor.close()
        if commit:
            self.begun = False

    def _statements(self) -> list[tuple[str, list[Any]]]:
        """Take what waits: as one joined statement where possible, else one by one."""
        queue = list(self._queue)
        self._queue.clear()
        together = joined(queue) if len(queue) > 1 else None
        return [together] if together is not None else [statement([write]) for write in queue]

    @staticmethod
    def _run(
        cursor: Any,
        begin: bool,
        statements: list[tuple[str, list[Any]]],
        extra: tuple[Any, str, Sequence[Any]] | None,
        commit: bool,
    ) -> None:
        if begin:
            cursor.execute("BEGIN", prepare=False)  # BEGIN and COMMIT cannot be prepared statements
        for sql, params in statements:
            cursor.execute(sql, params)
        if extra is not None:
            query_cursor, sql, params = extra
            query_cursor.execute(sql, params)
        if commit:
            cursor.execute("COMMIT", prepare=False)


def _plain_select(statement: str) -> bool:
    head = statement.lstrip()[:6].upper()
    return head == "SELECT" and " FOR " not in statement.upper()


def _translate(exc: Exception) -> None:
    import psycopg.errors  # only PostgreSQL connections get here

    if isinstance(exc, psycopg.errors.SerializationFailure):
        raise ConcurrentChange() from exc
    if isinstance(exc, psycopg.errors.IntegrityError):
        raise DuplicateRow(str(exc).splitlines()[0]) from exc


def active(conn: Connection) -> WriteBehind | None:
    """The write-behind of the connection's current unit of work, if it has one."""
    return conn.info.get(KEY)  # type: ignore[no-any-return]


def start(conn: Connection) -> WriteBehind:
    """Put the connection in autocommit mode and let the unit of work open the transaction itself."""
    dbapi = conn.connection.dbapi_connection
    dbapi.autocommit = True  # type: ignore[union-attr]
    pending = WriteBehind(dbapi)
    conn.info[KEY] = pending
    return pending


def stop(conn: Connection) -> None:
    """Give the connection back to the pool as the pool lent it."""
    pending = conn.info.pop(KEY, None)
    if pending is None:
        return
    dbapi = conn.connection.dbapi_connection
    try:
        if dbapi is not None and not dbapi.closed:  # type: ignore[attr-defined]
            dbapi.autocommit = False  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - a broken connection is discarded by the pool anyway
        conn.invalidate()


def install(engine: Engine) -> None:
    """Make SQLAlchemy's statements send what waits first, so statements keep their order."""

    @event.listens_for(engine, "before_cursor_execute")
    def _flush_first(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        pending = conn.info.get(KEY)
        if pending is not None:
            pending.before(statement)

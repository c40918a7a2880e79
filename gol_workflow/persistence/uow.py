"""The unit of work: one transaction per use case, and the only place that commits."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from sqlalchemy import Connection, Engine

from .audit import AuditRepository
from .inbox import InboxRepository
from .instances import InstanceRepository
from .system import SystemRepository
from .versions import VersionRepository


class UnitOfWork:
    """Opens a connection and a transaction; repositories share it."""

    conn: Connection
    versions: VersionRepository
    instances: InstanceRepository
    inbox: InboxRepository
    audit: AuditRepository
    system: SystemRepository

    def __init__(self, engine: Engine, write: bool = True) -> None:
        self._engine = engine
        self._write = write
        self._after_commit: list[Callable[[], None]] = []
        self._committed = False
        self.dialect = engine.dialect.name

    def __enter__(self) -> "UnitOfWork":
        conn = self._engine.connect()
        if self.dialect == "sqlite" and self._write:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        self.conn = conn
        conn.begin()
        self.versions = VersionRepository(conn)
        self.instances = InstanceRepository(conn, self.dialect)
        self.inbox = InboxRepository(conn)
        self.audit = AuditRepository(conn)
        self.system = SystemRepository(conn)
        return self

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the transaction has committed."""
        self._after_commit.append(callback)

    def commit(self) -> None:
        """Commit, then run the after-commit callbacks."""
        self.conn.commit()
        self._committed = True
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def rollback(self) -> None:
        """Abandon everything done in this unit of work."""
        self.conn.rollback()
        self._after_commit.clear()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                self.conn.rollback()
        finally:
            self.conn.close()

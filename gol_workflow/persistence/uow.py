"""The unit of work: one transaction per use case, and the only place that commits."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from types import TracebackType

from sqlalchemy import Connection, Engine

from .agenda import AgendaRepository
from .attachments import AttachmentRepository
from .audit import AuditRepository
from .inbox import InboxRepository
from .case_search import CaseSearch
from .inbox_search import InboxSearch
from .instances import InstanceRepository
from .meetings import MeetingRepository
from .outbox import OutboxRepository
from .system import SystemRepository
from .users import UserRepository
from .versions import VersionRepository


class UnitOfWork:
    """Opens a connection and a transaction; repositories share it."""

    conn: Connection
    versions: VersionRepository
    instances: InstanceRepository
    inbox: InboxRepository
    audit: AuditRepository
    system: SystemRepository
    meetings: MeetingRepository
    outbox: OutboxRepository
    users: UserRepository
    attachments: AttachmentRepository
    inbox_search: InboxSearch
    case_search: CaseSearch
    agenda: AgendaRepository

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
        self.meetings = MeetingRepository(conn, self.dialect)
        self.outbox = OutboxRepository(conn, self.dialect)
        self.users = UserRepository(conn)
        self.attachments = AttachmentRepository(conn)
        self.inbox_search = InboxSearch(conn)
        self.case_search = CaseSearch(conn)
        self.agenda = AgendaRepository(conn)
        return self

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the transaction has committed."""
        self._after_commit.append(callback)

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        """Run a block that can fail on its own: its writes and after-commit callbacks are undone."""
        mark = len(self._after_commit)
        nested = self.conn.begin_nested()
        try:
            yield
        except BaseException:
            nested.rollback()
            del self._after_commit[mark:]
            raise
        nested.commit()

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

"""The unit of work: one transaction per use case, and the only place that commits."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from functools import cached_property
from types import TracebackType

from sqlalchemy import Connection, Engine

from .agenda import AgendaRepository
from .attachments import AttachmentRepository
from .audit import AuditRepository
from .batches import BatchRepository
from .bookings import BookingRepository
from .case_history import CaseHistory
from .case_list import CaseList
from .case_records import CaseRecords
from .health import HealthQueries
from .heat import HeatQueries
from .saved_views import SavedViewRepository
from .inbox import InboxRepository
from .case_search import CaseSearch
from .drafts import DraftRepository
from .inbox_search import InboxSearch
from .login_attempts import LoginAttemptRepository
from .incidents import IncidentSearch
from .instance_search import InstanceSearch
from .instances import InstanceRepository
from .meetings import MeetingRepository
from .notices import NoticeRepository
from .outbox import OutboxRepository
from .placements import OperatorMeetingRepository, PlacementRepository
from .indicators import IndicatorQueries
from .repairs import RepairRepository
from .retention import RetentionRepository
from .sealing import SubjectKeys
from .sessions import SessionRepository
from .subject_records import SubjectRecords
from .system import SystemRepository
from .tokens import TokenRepository
from .users import UserRepository
from .versions import VersionRepository
from .archive import ArchiveRepository
from . import committed as committed_facts
from . import write_behind
from .write_behind import WriteBehind


class UnitOfWork:
    """One connection and one transaction; repositories share it and are built on first use.

    `write` takes SQLite's write lock when the transaction begins; on PostgreSQL the
    transaction opens with the first write whatever it says (see `write_behind`).
    """

    conn: Connection

    def __init__(self, engine: Engine, write: bool = True) -> None:
        self._engine = engine
        self._write = write
        self._after_commit: list[Callable[[], None]] = []
        self._committed = False
        self._behind: WriteBehind | None = None
        self.dialect = engine.dialect.name

    def __enter__(self) -> "UnitOfWork":
        conn = self._engine.connect()
        if self.dialect == "sqlite" and self._write:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        elif self.dialect == "postgresql":
            self._behind = write_behind.start(conn)
        self.conn = conn
        conn.begin()
        return self

    @cached_property
    def archive(self) -> ArchiveRepository:
        return ArchiveRepository(self.conn, self.dialect)

    @cached_property
    def retention(self) -> RetentionRepository:
        return RetentionRepository(self.conn, self.subject_keys)

    @cached_property
    def versions(self) -> VersionRepository:
        return VersionRepository(self.conn)

    @cached_property
    def drafts(self) -> DraftRepository:
        return DraftRepository(self.conn)

    @cached_property
    def instances(self) -> InstanceRepository:
        return InstanceRepository(self.conn, self.dialect)

    @cached_property
    def inbox(self) -> InboxRepository:
        return InboxRepository(self.conn, self.audit.keys)

    @cached_property
    def subject_keys(self) -> SubjectKeys:
        """The cases' keys this transaction read, shared by the repositories that read or write audit rows."""
        return SubjectKeys(self.conn)

    @cached_property
    def audit(self) -> AuditRepository:
        return AuditRepository(self.conn, self.subject_keys)

    @cached_property
    def placements(self) -> PlacementRepository:
        return PlacementRepository(self.conn)

    @cached_property
    def operator_meetings(self) -> OperatorMeetingRepository:
        return OperatorMeetingRepository(self.conn)

    @cached_property
    def indicators(self) -> IndicatorQueries:
        return IndicatorQueries(self.conn)

    @cached_property
    def system(self) -> SystemRepository:
        return SystemRepository(self.conn)

    @cached_property
    def meetings(self) -> MeetingRepository:
        return MeetingRepository(self.conn, self.dialect)

    @cached_property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self.conn, self.dialect)

    @cached_property
    def users(self) -> UserRepository:
        return UserRepository(self.conn)

    @cached_property
    def tokens(self) -> TokenRepository:
        return TokenRepository(self.conn)

    @cached_property
    def sessions(self) -> SessionRepository:
        return SessionRepository(self.conn)

    @cached_property
    def login_attempts(self) -> LoginAttemptRepository:
        return LoginAttemptRepository(self.conn)

    @cached_property
    def attachments(self) -> AttachmentRepository:
        return AttachmentRepository(self.conn)

    @cached_property
    def bookings(self) -> BookingRepository:
        return BookingRepository(self.conn)

    @cached_property
    def inbox_search(self) -> InboxSearch:
        return InboxSearch(self.conn)

    @cached_property
    def case_records(self) -> CaseRecords:
        return CaseRecords(self.conn)

    @cached_property
    def case_list(self) -> CaseList:
        return CaseList(self.conn, self.subject_keys)

    @cached_property
    def case_history(self) -> CaseHistory:
        return CaseHistory(self.conn, self.subject_keys)

    @cached_property
    def case_search(self) -> CaseSearch:
        return CaseSearch(self.conn)

    @cached_property
    def agenda(self) -> AgendaRepository:
        return AgendaRepository(self.conn)

    @cached_property
    def instance_search(self) -> InstanceSearch:
        return InstanceSearch(self.conn)

    @cached_property
    def repairs(self) -> RepairRepository:
        return RepairRepository(self.conn)

    @cached_property
    def batches(self) -> BatchRepository:
        return BatchRepository(self.conn, self.dialect)

    @cached_property
    def incidents(self) -> IncidentSearch:
        return IncidentSearch(self.conn)

    @cached_property
    def heat(self) -> HeatQueries:
        return HeatQueries(self.conn)

    @cached_property
    def saved_views(self) -> SavedViewRepository:
        return SavedViewRepository(self.conn)

    @cached_property
    def subject_records(self) -> SubjectRecords:
        return SubjectRecords(self.conn)

    @cached_property
    def health(self) -> HealthQueries:
        return HealthQueries(self.conn)

    @cached_property
    def notices(self) -> NoticeRepository:
        return NoticeRepository(self.conn)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the transaction has committed."""
        self._after_commit.append(callback)

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        """Run a block that can fail on its own: its writes and after-commit callbacks are undone."""
        mark = len(self._after_commit)
        facts_mark = committed_facts.mark(self.conn)
        nested = self.conn.begin_nested()
        try:
            yield
            if self._behind is not None:
                self._behind.flush()  # the block's writes fail inside the block, not after it
        except BaseException:
            if self._behind is not None:
                self._behind.discard()
            nested.rollback()
            del self._after_commit[mark:]
            committed_facts.rewind(self.conn, facts_mark)
            raise
        nested.commit()

    def commit(self) -> None:
        """Commit, then run the after-commit callbacks."""
        if self._behind is not None:
            self._behind.commit()
        self.conn.commit()
        self._committed = True
        committed_facts.committed(self.conn)
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def rollback(self) -> None:
        """Abandon everything done in this unit of work."""
        if self._behind is not None:
            self._behind.discard()
        self.conn.rollback()
        committed_facts.discarded(self.conn)
        self._after_commit.clear()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                # Nothing is kept that was not committed. A PostgreSQL unit of work that wrote
                # nothing never opened a transaction, so this costs it nothing (and keeps
                # psycopg's prepared statements, which a real rollback discards).
                if self._behind is not None:
                    self._behind.discard()
                self.conn.rollback()
                committed_facts.discarded(self.conn)
        finally:
            if self._behind is not None:
                write_behind.stop(self.conn)
            self.conn.close()

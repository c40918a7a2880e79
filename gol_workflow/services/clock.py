"""The simulated clock (training and tests): current time kept in the database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from ..persistence.uow import UnitOfWork


class DatabaseClock:
    """Reads the simulated time from the database; starts at the real time when unset."""

    def __init__(self, db: Engine) -> None:
        self._db = db

    def now(self) -> datetime:
        """The stored simulated instant."""
        with UnitOfWork(self._db, write=False) as uow:
            value = uow.system.simulated_now()
        return value or datetime.now(UTC).replace(microsecond=0)

"""The service's notion of "now": real time, or a clock tests and trainers can move."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the current instant as an aware UTC datetime."""

    def now(self) -> datetime:
        """Return the current instant (UTC, aware)."""
        ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        """Return the real current instant."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (tests and benchmarks)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the clock's current instant."""
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        """Jump to an instant."""
        if moment.tzinfo is None:
            raise ValueError("aware datetime required")
        with self._lock:
            self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        """Move forward and return the new instant."""
        with self._lock:
            self._now += delta
            return self._now

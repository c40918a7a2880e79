"""What each committed transaction did, told to an observer after the commit (metrics count it).

Repositories note facts on the connection as they write; the unit of work hands them to the
engine's observer once the transaction has committed, and drops them when it rolls back, so
an observer never counts work that was undone.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, Engine

Fact = tuple[str, Mapping[str, Any]]
Observer = Callable[[list[Fact]], None]

_KEY = "gol_committed_facts"
_observers: "weakref.WeakKeyDictionary[Engine, Observer]" = weakref.WeakKeyDictionary()
log = logging.getLogger(__name__)


def observe(engine: Engine, observer: Observer) -> None:
    """Tell `observer` the facts of every transaction committed through this engine."""
    _observers[engine] = observer


def note(conn: Connection, kind: str, facts: Mapping[str, Any]) -> None:
    """Remember one fact of the transaction under way on this connection."""
    if conn.engine in _observers:
        conn.info.setdefault(_KEY, []).append((kind, facts))


def committed(conn: Connection) -> None:
    """Hand the facts of the transaction that just committed to the observer."""
    facts = conn.info.pop(_KEY, None)
    observer = _observers.get(conn.engine)
    if facts and observer is not None:
        try:
            observer(facts)
        except Exception:  # counting must never fail a use case that already committed
            log.exception("observer of committed work failed")


def discarded(conn: Connection) -> None:
    """Forget the facts of a transaction that was rolled back."""
    conn.info.pop(_KEY, None)


def mark(conn: Connection) -> int:
    """How many facts the transaction has noted so far (a savepoint starts here)."""
    return len(conn.info.get(_KEY, ()))


def rewind(conn: Connection, position: int) -> None:
    """Forget the facts noted since `position` (a savepoint was rolled back)."""
    facts = conn.info.get(_KEY)
    if facts is not None:
        del facts[position:]

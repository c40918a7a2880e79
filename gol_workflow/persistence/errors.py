"""Errors the persistence layer raises whatever the database."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError


class DuplicateRow(Exception):
    """A write collided with a row that already exists."""


RETRY_AFTER_SECONDS = 5


def database_unavailable(error: BaseException) -> bool:
    """True when the database could not be reached or dropped the connection (worth trying again soon)."""
    if isinstance(error, DisconnectionError | OperationalError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def connection_lost(error: BaseException) -> bool:
    """True when a statement failed because its connection was dropped (the pool has discarded its peers)."""
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def input_out_of_range(error: BaseException) -> bool:
    """True when a value from a request was too large for the database's integers."""
    return isinstance(error, OverflowError)

"""A safe request that met a dropped database connection is run once more (for the API and the web).

The pool notices most dropped connections before lending them (see `persistence.database`),
but a connection cut a moment before it is used fails on its first statement. SQLAlchemy
then discards every pooled connection of that age, so running the request again reaches
the database afresh. Only GET, HEAD and OPTIONS are run again: a POST that met a disconnect
answers 503 with Retry-After, since whether its commit arrived cannot be known.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, g, request

from ..persistence.errors import connection_lost

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")
_RETRIED = "gol_reconnected"


class _RunAgain(Exception):
    """Raised by an error handler to have the request dispatched once more."""


def run_again_if_safe(error: BaseException) -> None:
    """From an error handler: raise to run the request once more if it lost its connection and is safe to repeat."""
    if connection_lost(error) and request.method in SAFE_METHODS and not g.get(_RETRIED):
        g.setdefault(_RETRIED, True)
        raise _RunAgain() from error


def once_more_if_lost(read: Callable[[], T]) -> T:
    """Run a repeatable read, and once more if it met a dropped connection (outside a request's dispatch)."""
    try:
        return read()
    except Exception as error:
        if not connection_lost(error):
            raise
    return read()


def install(app: Flask) -> None:
    """Let `run_again_if_safe` repeat this app's requests."""
    dispatch: Callable[[], Any] = app.full_dispatch_request

    def full_dispatch_request() -> Any:
        try:
            return dispatch()
        except _RunAgain:
            return dispatch()

    app.full_dispatch_request = full_dispatch_request  # type: ignore[method-assign]

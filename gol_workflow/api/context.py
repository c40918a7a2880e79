"""Per-request access to the runtime and the account a bearer token belongs to."""

from __future__ import annotations

from flask import current_app, g

from ..domain.model import Actor
from ..services.workflow.runtime import Runtime

RUNTIME_KEY = "gol_runtime"


def runtime() -> Runtime:
    """The runtime the API was built around."""
    return current_app.extensions[RUNTIME_KEY]  # type: ignore[no-any-return]


def actor() -> Actor:
    """The caller, authenticated by `auth.authenticate` before every protected operation."""
    return g.actor  # type: ignore[no-any-return]

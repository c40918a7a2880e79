"""Per-request access to the runtime and the person logged in."""

from __future__ import annotations

from flask import abort, current_app, g

from ..domain.model import Actor
from ..services.workflow.runtime import Runtime
from ..services.access.users import User

RUNTIME_KEY = "gol_runtime"


def runtime() -> Runtime:
    """The runtime the app was built around."""
    return current_app.extensions[RUNTIME_KEY]  # type: ignore[no-any-return]


def current_user() -> User | None:
    """The logged-in user, if any."""
    return g.get("user")


def actor() -> Actor:
    """The actor for service calls; 401 when nobody is logged in."""
    user = current_user()
    if user is None:
        abort(401)
    return user.actor()

"""A cap on login requests per client address (Flask-Limiter), in front of the database's failure counts.

The counts of failed logins that protect accounts live in the database (`services.login_throttle`),
shared by every worker. This cap counts every POST to the login form, right or wrong, and keeps
a flood of them from costing even the database reads. Its counters live where
`GOL_RATELIMIT_STORAGE_URI` says: `memory://` (the default) is per process, so N workers
allow N times the rate; a `redis://` or `memcached://` URI shares them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from flask import Flask, current_app, request
from flask_limiter import Limiter

from ..config import Settings
from ..services.access.login_throttle import address_key

LIMITER_KEY = "gol_login_limiter"


def init_app(app: Flask, settings: Settings) -> None:
    """Attach a limiter when a login rate is configured (GOL_LOGIN_RATE_LIMIT)."""
    if not settings.login_rate_limit:
        return
    limiter = Limiter(key_func=client_address, app=app, storage_uri=settings.ratelimit_storage_uri,
                      headers_enabled=False, key_prefix="gol-login")
    app.extensions[LIMITER_KEY] = (limiter, settings.login_rate_limit)


def client_address() -> str:
    """The client address the limit counts (after the trusted proxy hops; an IPv6 client's /64)."""
    return address_key(request.remote_addr)


@contextlib.contextmanager
def login_requests() -> Iterator[None]:
    """Count one login request; raises flask_limiter.RateLimitExceeded over the rate."""
    entry = current_app.extensions.get(LIMITER_KEY)
    if entry is None:
        yield
        return
    limiter, rate = entry
    with limiter.limit(rate, scope="login"):
        yield

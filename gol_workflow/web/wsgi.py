"""WSGI entry for production servers: `gunicorn 'gol_workflow.web.wsgi:create()'`.

Settings come from the environment; the app is built when the server calls `create()`,
never at import time.
"""

from __future__ import annotations

from flask import Flask

from ..bootstrap import bootstrap
from ..config import load_settings
from ..observability import logs
from . import create_app


def create() -> Flask:
    """Build the app from GOL_* environment variables."""
    settings = load_settings()
    logs.configure(settings.log_format)
    return create_app(bootstrap(settings, metrics=True, probe_provider=True))

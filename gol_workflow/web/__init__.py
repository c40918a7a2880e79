"""The operator web: a Flask app built by `create_app(runtime)`; nothing is built at import time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .. import api
from ..bootstrap import enable_metrics
from ..services.workflow.runtime import Runtime
from . import (admin, agenda, auth, case_list, cases, errors, filters, health, inbox, indicators, limits, navigation,
               observability, placements, preferences, security, tasks, territory, throttling, vendor)
from .context import RUNTIME_KEY
from .sessions import ServerSessionInterface

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def create_app(runtime: Runtime, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the web application around a wired runtime."""
    web_dir = PROJECT_ROOT / "web"
    app = Flask(
        "gol_workflow.web",
        template_folder=str(web_dir / "templates"),
        static_folder=str(web_dir / "static"),
        static_url_path="/static",
    )
    settings = runtime.settings
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="gol_sessione",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_max_hours),
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        WTF_CSRF_SSL_STRICT=settings.production,
        NODE_MODULES=PROJECT_ROOT / "node_modules",
        GOL_PRODUCTION=settings.production,
        TEMPLATES_AUTO_RELOAD=not settings.production,
    )
    if overrides:
        app.config.update(overrides)
    app.extensions[RUNTIME_KEY] = runtime
    app.session_interface = ServerSessionInterface()
    app.before_request(limits.raise_for_uploads)  # before the CSRF check reads the body
    # Logging out sends the browser from a form to the provider, which form-action must allow.
    security.init_app(app, (_origin(settings.oidc.issuer),) if settings.oidc else ())
    throttling.init_app(app, settings)
    filters.init_app(app, settings.timezone)
    errors.init_app(app)
    navigation.init_app(app)
    preferences.init_app(app)
    territory.init_app(app)
    for blueprint in (health.bp, vendor.bp, auth.bp, inbox.bp, tasks.bp, case_list.bp, cases.bp, agenda.bp, placements.bp):
        app.register_blueprint(blueprint)
    admin.init_app(app)
    indicators.init_app(app)
    observability.note_route(app, observability.web_actor)
    api_app = api.mount(app, runtime)
    observability.note_route(api_app, api.caller)
    app.wsgi_app = observability.RequestObserver(app.wsgi_app, enable_metrics(runtime))  # type: ignore[method-assign]
    if settings.proxy_hops:
        # Only this many proxies in front are believed: the client address is the one the
        # outermost trusted proxy saw, so a forwarded header a client forges is not.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops,  # type: ignore[method-assign]
                                x_proto=settings.proxy_hops)
    return app


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"

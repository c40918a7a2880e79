"""The REST API under `/api/v1`: a Flask app of its own, served from the web app's WSGI entry.

It is separate from the operator web so that nothing of a browser session applies to it:
no cookies, no CSRF tokens, no login redirects, and every error is problem+json. Callers
authenticate with bearer tokens; the services apply the same authorisation as the web.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Response, g

from ..services.workflow.runtime import Runtime
from . import (auth, batches, cases, docs, incidents, indicators, instances, messages, openapi, people, placements,
               problems, processes, saved_views, tasks, zones)
from .context import RUNTIME_KEY
from .schemas.common import TIMEZONE_KEY

PREFIX = "/api"
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
BLUEPRINTS = (processes.bp, instances.bp, batches.bp, tasks.bp, cases.bp, placements.bp, messages.bp, zones.bp,
              indicators.bp, people.bp, incidents.bp, saved_views.bp)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def create_api(runtime: Runtime, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the API application around a wired runtime."""
    app = Flask("gol_workflow.api")
    app.config.update(openapi.config())
    app.config.update(MAX_CONTENT_LENGTH=runtime.settings.max_request_bytes, **{TIMEZONE_KEY: ZoneInfo(runtime.settings.timezone),
                                                            docs.NODE_MODULES_KEY: NODE_MODULES})
    if overrides:
        app.config.update(overrides)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[RUNTIME_KEY] = runtime
    problems.init_app(app)
    auth.init_app(app)
    app.after_request(_headers)
    api = openapi.Api(app)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.bp)  # a page, not an API operation: outside the document
    return app


def caller() -> str | None:
    """The username the request's bearer token belongs to, once authenticated."""
    actor = g.get("actor")
    return getattr(actor, "username", None)


_SECURITY_HEADERS = (
    ("Cache-Control", "no-store"),  # case data must not linger in caches
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Referrer-Policy", "no-referrer"),
)


def _headers(response: Response) -> Response:
    headers = response.headers
    present = {name.lower() for name in headers.keys()}  # one pass, not one per header added
    for name, value in _SECURITY_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    return response


class PathDispatcher:
    """Send `/api` and everything under it to the API, the rest to the web."""

    def __init__(self, web: WsgiApp, api: WsgiApp) -> None:
        self.web = web
        self.api = api

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == PREFIX or path.startswith(PREFIX + "/"):
            return self.api(environ, start_response)
        return self.web(environ, start_response)


def mount(web: Flask, runtime: Runtime) -> Flask:
    """Serve the API from the web app (the one hook in `create_app`); returns the API app."""
    api = create_api(runtime, {docs.NODE_MODULES_KEY: web.config.get(docs.NODE_MODULES_KEY, NODE_MODULES)})
    web.wsgi_app = PathDispatcher(web.wsgi_app, api)  # type: ignore[method-assign]
    return api

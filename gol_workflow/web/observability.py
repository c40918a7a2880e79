"""Every request gets an id, a log line and a place in the latency metric, web and API alike."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, g, request

from ..observability import logs
from ..observability.metrics import Metrics

HEADER = "X-Request-ID"
ENV_ID = "gol.request_id"
ENV_ROUTE = "gol.route"
ENV_ACTOR = "gol.actor"
_ACCEPTED = re.compile(r"^[A-Za-z0-9._-]{8,64}$")  # an id a proxy in front made; anything else is replaced
log = logging.getLogger("gol_workflow.requests")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class RequestObserver:
    """WSGI middleware around the web and the API: request id, one JSON log line, latency by route."""

    def __init__(self, app: WsgiApp, metrics: Metrics | None) -> None:
        self.app = app
        self.metrics = metrics

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        given = environ.get("HTTP_X_REQUEST_ID", "")
        rid = given if _ACCEPTED.match(given) else uuid.uuid4().hex
        environ[ENV_ID] = rid
        id_token, actor_token = logs.request_id.set(rid), logs.actor.set(None)
        started = time.perf_counter()
        status: list[int] = [500]

        def _start(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[0] = int(code.split(" ", 1)[0])
            headers.append((HEADER, rid))
            # The app's own time, session and authentication included, web and API alike (for
            # operators' browser tools and the benchmarks).
            headers.append(("Server-Timing", f"app;dur={(time.perf_counter() - started) * 1000:.1f}"))
            return start_response(code, headers, exc_info)

        try:
            return self.app(environ, _start)
        finally:
            seconds = time.perf_counter() - started
            route = environ.get(ENV_ROUTE) or "<unmatched>"
            if self.metrics is not None:
                self.metrics.observe_request(route, environ.get("REQUEST_METHOD", ""), status[0], seconds)
            log.info("request", extra={
                "request_id": rid, "actor": environ.get(ENV_ACTOR), "method": environ.get("REQUEST_METHOD"),
                "route": route, "status": status[0], "duration_ms": round(seconds * 1000, 1)})
            logs.request_id.reset(id_token)
            logs.actor.reset(actor_token)


def note_route(app: Flask, actor_of: Callable[[], str | None]) -> None:
    """Tell the observer which route answered and who asked (set by each Flask app, web and API)."""

    @app.before_request
    def _note() -> None:
        request.environ[ENV_ROUTE] = request.url_rule.rule if request.url_rule is not None else "<unmatched>"

    @app.after_request
    def _actor(response: Any) -> Any:
        who = actor_of()
        if who:
            request.environ[ENV_ACTOR] = who
            logs.actor.set(who)
        return response


def web_actor() -> str | None:
    """The logged-in operator's username, if any."""
    user = g.get("user")
    return getattr(user, "username", None) if user is not None else None

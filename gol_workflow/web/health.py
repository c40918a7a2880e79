"""Probes and metrics for operations: `/healthz`, `/readyz` and `/metrics` (no login, no case data)."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, jsonify, request

from ..observability.metrics import exposition
from ..services.administration import health
from .context import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process answers (liveness)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Database reachable, schema current, a scheduler alive, backlogs under their thresholds."""
    result = health.readiness(runtime())
    return jsonify(result.as_dict()), 200 if result.ready else 503


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text exposition of every worker's counts and the current backlogs."""
    rt = runtime()
    token = rt.settings.metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return Response("metrics need the bearer token set in GOL_METRICS_TOKEN\n", 401,
                            {"WWW-Authenticate": "Bearer"}, mimetype="text/plain")
    assert rt.metrics is not None  # create_app enables them
    body, content_type = exposition(rt.metrics, BacklogCollector(rt))
    return Response(body, 200, mimetype=None, content_type=content_type)


class BacklogCollector:
    """Gauges read from the database at scrape time: what waits now, the same for every worker."""

    def __init__(self, rt: object) -> None:
        self.rt = rt

    def collect(self):  # type: ignore[no-untyped-def]
        """The backlog gauges."""
        from prometheus_client.core import GaugeMetricFamily

        figures = health.backlog(self.rt)  # type: ignore[arg-type]
        described = {
            "outbox_waiting": "E-mail waiting to be sent.",
            "outbox_failed": "E-mail that failed for good.",
            "instances_in_error": "Instances stopped by an error (incidents).",
            "timers_overdue": "Timers due more than a minute ago and not fired yet.",
            "oldest_timer_lateness_seconds": "How late the most overdue timer is.",
            "cutoffs_overdue": "Equipe meeting cut-offs due and not convened yet.",
            "heartbeat_age_seconds": "Seconds since the last scheduler heartbeat.",
        }
        for key, text in described.items():
            value = figures.get(key)
            if value is not None:
                yield GaugeMetricFamily(f"gol_{key}", text, value=float(value))

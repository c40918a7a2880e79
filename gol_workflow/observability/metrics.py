"""The service's Prometheus metrics, counted from committed work and from requests.

Several gunicorn workers each count on their own; with `PROMETHEUS_MULTIPROC_DIR` set (the
`serve` command sets it before the workers start) prometheus-client keeps the counts in files
there and `/metrics` adds them up, so a scrape sees the whole service whatever worker answers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..persistence.committed import Fact

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LATENESS_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 15.0, 60.0, 300.0, 3600.0)
ENDED = {"completed", "terminated"}
# Audit actions counted as they are, by the name of their counter and a label value.
COUNTED = {
    "task.completed": ("task_completions", None),
    "instance.started": ("instances_started", None),
    "timer.fired": ("timers_fired", None),
    "meeting.convened": ("meeting_cutoffs", "convened"),
    "meeting.failed": ("meeting_cutoffs", "failed"),
    "meeting.cancelled": ("meeting_cutoffs", "cancelled"),
    "mail.sent": ("mail", "sent"),
    "mail.failed": ("mail", "failed"),
    "mail.expired": ("mail", "expired"),
    "mail.requeued": ("mail", "requeued"),
    "instance.error": ("incidents", "instance"),
    "scheduler.failed": ("incidents", "scheduler"),
    "message.delivered": ("messages", "delivered"),
    "message.buffered": ("messages", "buffered"),
    "message.dropped": ("messages", "dropped"),
}


def multiprocess_dir() -> str | None:
    """The folder shared by the workers' counters, when several processes serve."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    """Counters and histograms of one process, registered once per registry."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        # In multi-process mode the values live in files and are collected at scrape time, so the
        # metrics are built on a private registry; alone, that registry is the one scraped.
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.request_seconds = Histogram(
            "gol_http_request_duration_seconds", "Time to answer a request, by route, method and status class.",
            ["route", "method", "status"], buckets=LATENCY_BUCKETS, registry=r)
        self.task_completions = Counter(
            "gol_task_completions_total", "User tasks completed, by task element.", ["task"], registry=r)
        self.instances_started = Counter(
            "gol_instances_started_total", "Instances started, by process.", ["process"], registry=r)
        self.instances_ended = Counter(
            "gol_instances_ended_total", "Instances that ended, by how (completed or terminated).", ["status"],
            registry=r)
        self.timers_fired = Counter("gol_timers_fired_total", "Timers fired.", registry=r)
        self.timer_lateness = Histogram(
            "gol_timer_lateness_seconds", "How late a timer fired after its due time.", buckets=LATENESS_BUCKETS,
            registry=r)
        self.meeting_cutoffs = Counter(
            "gol_meeting_cutoffs_total", "Equipe meeting cut-offs, by outcome.", ["outcome"], registry=r)
        self.mail = Counter("gol_mail_total", "E-mail outbox deliveries, by outcome.", ["outcome"], registry=r)
        self.incidents = Counter(
            "gol_incidents_total", "Failures that became incidents, by where they happened.", ["source"], registry=r)
        self.messages = Counter(
            "gol_messages_total", "BPMN messages from outside, by outcome.", ["outcome"], registry=r)
        self.cache = Counter(
            "gol_workflow_cache_total", "Workflow cache lookups, by result (hit or miss).", ["result"], registry=r)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        self.request_seconds.labels(route, method, f"{status // 100}xx").observe(seconds)

    def observe_cache(self, hit: bool) -> None:
        """Count one workflow cache lookup."""
        self.cache.labels("hit" if hit else "miss").inc()

    def observe_committed(self, facts: list[Fact]) -> None:
        """Count what one committed transaction did."""
        for kind, values in facts:
            if kind == "instance.status":
                if values.get("status") in ENDED:
                    self.instances_ended.labels(values["status"]).inc()
                continue
            counted = COUNTED.get(kind)
            if counted is None:
                continue
            name, label = counted
            if name == "task_completions":
                self.task_completions.labels(values.get("element_id") or "").inc()
            elif name == "instances_started":
                self.instances_started.labels(_process_of(values.get("data"))).inc()
            elif name == "timers_fired":
                self.timers_fired.inc()
                lateness = _lateness(values)
                if lateness is not None:
                    self.timer_lateness.observe(lateness)
            else:
                getattr(self, name).labels(label).inc()


def _process_of(data: Any) -> str:
    if isinstance(data, Mapping):
        return str(data.get("process_id") or data.get("process") or "")
    return ""


def _lateness(values: Mapping[str, Any]) -> float | None:
    data, at = values.get("data"), values.get("at")
    if not isinstance(data, Mapping) or not isinstance(at, datetime) or not data.get("due_at"):
        return None
    try:
        due = datetime.fromisoformat(str(data["due_at"]))
    except ValueError:
        return None
    if due.tzinfo is None or at.tzinfo is None:
        return None
    return max(0.0, (at - due).total_seconds())


def exposition(metrics: Metrics, extra: Any = None) -> tuple[bytes, str]:
    """The text a scrape reads: every worker's counts (multi-process) or this one's, plus `extra`."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = metrics.registry
    if extra is not None:
        registry = _with(registry, extra)
    return generate_latest(registry), CONTENT_TYPE_LATEST


def _with(registry: Any, extra: Any) -> Any:
    from prometheus_client import CollectorRegistry

    combined = CollectorRegistry()

    class _Both:
        def collect(self) -> Any:
            yield from registry.collect()
            yield from extra.collect()

    combined.register(_Both())
    return combined


def mark_process_dead(pid: int) -> None:
    """Tell prometheus-client a worker is gone (its gauges are dropped, counters kept)."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)

"""gunicorn hooks for production (`gunicorn -c gol_workflow/web/gunicorn_hooks.py ...`): metrics of exited workers."""

from __future__ import annotations

from typing import Any

from gol_workflow.observability import metrics  # absolute: gunicorn runs this file by path


def child_exit(_server: Any, worker: Any) -> None:
    """Mark a worker that exited as dead, so its gauges leave the scrape (its counters are kept)."""
    metrics.mark_process_dead(worker.pid)

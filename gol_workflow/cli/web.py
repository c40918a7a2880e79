"""`gol-workflow serve`: the web service on gunicorn, with the embedded scheduler for the local default."""

from __future__ import annotations

import argparse
import fcntl
import importlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from gunicorn.app.base import BaseApplication

from ..bootstrap import bootstrap
from ..observability import logs, metrics
from ..services.workflow.runtime import Runtime
from ..web import create_app
from .common import settings

log = logging.getLogger(__name__)
LOCK_NAME = "embedded-scheduler.lock"
_held_lock: list[IO[str]] = []  # the lock file stays open (and locked) for the worker's lifetime


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `serve` command."""
    parser = commands.add_parser("serve", help="run the web service (local default)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("GOL_WEB_WORKERS", "2")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("GOL_WEB_THREADS", "4")))
    parser.set_defaults(handler=_serve)


class _Server(BaseApplication):  # type: ignore[misc]
    """gunicorn driven from Python: each worker builds its own runtime and app after the fork."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        logs.configure(settings().log_format)
        runtime = bootstrap(settings(), metrics=True, probe_provider=True)
        if settings().embedded_scheduler:
            start_scheduler_once(runtime)
        return create_app(runtime)


def _serve(args: argparse.Namespace) -> int:
    print(f"gol-workflow listening on http://{args.host}:{args.port}/ ({args.workers} workers)")
    prepare_metrics_dir(settings().var_dir / "metrics")
    _Server({
        "bind": f"{args.host}:{args.port}",
        "workers": max(1, args.workers),
        "threads": max(1, args.threads),
        "worker_class": "gthread",
        "accesslog": None,  # the service logs each request itself, with its id and actor
        "child_exit": _worker_exited,
        "timeout": 60,
        "preload_app": False,
    }).run()
    return 0


def prepare_metrics_dir(folder: Path) -> None:
    """Share the workers' metric counts through files in an empty folder (unless one is configured)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):  # counts of an earlier run would be added to this one's
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def _worker_exited(_server: Any, worker: Any) -> None:
    metrics.mark_process_dead(worker.pid)


def scheduler_starter() -> Callable[[Runtime], Any] | None:
    """`gol_workflow.scheduler.start_embedded_scheduler`, when the scheduler module provides it."""
    try:
        module = importlib.import_module("gol_workflow.scheduler")
    except ModuleNotFoundError as exc:
        if exc.name == "gol_workflow.scheduler":
            return None
        raise
    return getattr(module, "start_embedded_scheduler", None)


def start_scheduler_once(runtime: Runtime) -> bool:
    """Start the embedded scheduler in exactly one process: the first to take a file lock under var/."""
    starter = scheduler_starter()
    if starter is None or _held_lock:
        return False
    path = Path(runtime.settings.var_dir) / LOCK_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return False  # another worker (or a running `serve`) already runs it
    _held_lock.append(handle)
    starter(runtime)
    log.info("embedded scheduler started in process %s", os.getpid())
    return True

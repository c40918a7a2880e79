"""`gol-workflow scheduler`: the scheduler process (run one or more; each timer fires once)."""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from types import FrameType

from ..bootstrap import enable_metrics
from ..observability import logs
from ..scheduler import Scheduler, SchedulerOptions
from ..services.workflow.timers import BeforeCommit
from .common import runtime

# Fault injection for the crash tests: sleep after firing, before committing, so the process can be killed there.
PAUSE_ENV = "GOL_TEST_PAUSE_BEFORE_COMMIT"


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `scheduler` command."""
    parser = commands.add_parser("scheduler", help="run the scheduler: timers, meeting cut-offs, e-mail outbox")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between looks at what is due (default 1)")
    parser.add_argument("--name", default=None, help="name shown with the heartbeat (default host:pid)")
    parser.add_argument("--metrics-port", type=int, default=None,
                        help="serve this scheduler's Prometheus metrics on this port (default: none; schedulers "
                             "on a web host share PROMETHEUS_MULTIPROC_DIR with it instead)")
    parser.set_defaults(handler=_run)


def _pause_hook() -> BeforeCommit | None:
    seconds = float(os.environ.get(PAUSE_ENV, "0") or 0)
    if seconds <= 0:
        return None

    def pause(claimed: list[str]) -> None:
        print(f"paused before commit: {' '.join(claimed)}", flush=True)
        time.sleep(seconds)

    return pause


def _run(args: argparse.Namespace) -> int:
    rt = runtime()
    logs.configure(rt.settings.log_format)
    counting = enable_metrics(rt)
    if args.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port, addr="127.0.0.1", registry=counting.registry)
    options = SchedulerOptions(poll_seconds=max(0.1, args.poll), before_commit=_pause_hook())
    if args.name:
        options.name = args.name
    scheduler = Scheduler(rt, options)
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()  # only a flag here: the main thread stops the scheduler outside the handler

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.start()
    print(f"scheduler {options.name} running; stop with Ctrl-C or SIGTERM", flush=True)
    while not stopping.wait(1.0):
        pass
    scheduler.stop()
    print("scheduler stopped", flush=True)
    return 0

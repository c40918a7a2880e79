"""Lifecycles per second: raw in-memory SpiffWorkflow vs the service layer persisted on SQLite and PostgreSQL.

One lifecycle = start a 5-user-task process and complete its five tasks. The persisted runs
go through the same use cases the web and API call (validation, authorisation, inbox
projection, audit, optimistic locking, one transaction per step).

    .venv/bin/python benchmarks/engine_throughput.py [--lifecycles 300] [--postgres URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from gol_workflow.bootstrap import bootstrap
from gol_workflow.clock import ManualClock
from gol_workflow.config import Settings
from gol_workflow.domain.model import Actor
from gol_workflow.engine.parsing import compile_from_sources
from gol_workflow.persistence import schema
from gol_workflow.services import deployment
from gol_workflow.services import instances as instance_service
from gol_workflow.services import tasks as task_service

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
ADMIN = Actor(username="bench", role="admin")
PROCESS = "five_steps"


def raw_lifecycles(n: int) -> float:
    """In-memory SpiffWorkflow, default script engine, no persistence."""
    source = (DATA / "processes" / "five_steps.bpmn").read_bytes()
    compiled = compile_from_sources({"five_steps.bpmn": source}, PROCESS)
    started = time.perf_counter()
    for _ in range(n):
        workflow = BpmnWorkflow(compiled.spec, compiled.subprocess_specs)
        workflow.do_engine_steps()
        while ready := workflow.get_tasks(state=TaskState.READY, manual=True):
            ready[0].data.update({"nota": "ok"})
            ready[0].run()
            workflow.do_engine_steps()
    return n / (time.perf_counter() - started)


def persisted_lifecycles(url: str, n: int, var_dir: Path) -> float:
    """The service layer on a real database, one transaction per step."""
    settings = Settings(
        database_url=url,
        processes_dir=DATA / "processes",
        forms_dir=DATA / "forms",
        zones_dir=ROOT / "zones",
        var_dir=var_dir,
        secret_key="bench",
    )
    rt = bootstrap(settings, clock=ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC)))
    schema.upgrade(rt.db)
    rt.connectors.setdefault("test_registra", lambda call: {})  # deploy accepts only registered operators
    deployment.deploy(rt, deployment.read_sources(DATA / "processes", DATA / "forms"), ADMIN)

    def lifecycle() -> None:
        instance_id = instance_service.start_instance(rt, PROCESS, {"zona": "pistoiese"}, ADMIN)
        with rt.uow(write=False) as uow:
            task_id = uow.inbox.for_instance(instance_id)[0]["id"]
        for _ in range(5):
            # The completion answers with the next task, as the inbox offers it to the operator.
            result = task_service.complete_task(rt, task_id, {"nota": "ok"}, ADMIN)
            task_id = result.next_tasks[0]["id"] if result.next_tasks else None

    for _ in range(max(5, n // 20)):  # warm caches and connections
        lifecycle()
    started = time.perf_counter()
    for _ in range(n):
        lifecycle()
    rate = n / (time.perf_counter() - started)
    rt.db.dispose()
    return rate


def _fresh_postgres(url: str) -> str:
    """Recreate the benchmark database so every run starts empty."""
    base, _, name = url.rpartition("/")
    admin = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url


def main() -> int:
    """Run the measurements interleaved (raw, SQLite, PostgreSQL, again...) and print medians."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lifecycles", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/gol_bench_engine",
                        help="PostgreSQL URL of a scratch database (dropped and recreated); '' to skip")
    args = parser.parse_args()
    n = args.lifecycles
    raw: list[float] = []
    sqlite: list[float] = []
    postgres: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            # Interleaved so that load from anything else on the machine hits every series alike.
            raw.append(raw_lifecycles(n))
            sqlite.append(persisted_lifecycles(f"sqlite:///{tmp}/bench-{run}.sqlite3", n, Path(tmp)))
            if args.postgres:
                postgres.append(persisted_lifecycles(_fresh_postgres(args.postgres), n, Path(tmp)))
    r, s = statistics.median(raw), statistics.median(sqlite)
    print(f"lifecycles per run: {n} (start + 5 user tasks), median of {args.runs} interleaved runs")
    print(f"raw SpiffWorkflow in memory : {r:8.1f} lifecycles/s")
    print(f"persisted on SQLite         : {s:8.1f} lifecycles/s  = {s / r:6.1%} of raw (target >= 20%)"
          f"   per-run ratios {_ratios(sqlite, raw)}")
    if postgres:
        p = statistics.median(postgres)
        print(f"persisted on PostgreSQL     : {p:8.1f} lifecycles/s  = {p / r:6.1%} of raw (target >= 12%)"
              f"   per-run ratios {_ratios(postgres, raw)}")
    return 0


def _ratios(persisted: list[float], raw: list[float]) -> str:
    return " ".join(f"{a / b:.1%}" for a, b in zip(persisted, raw, strict=True))


if __name__ == "__main__":
    sys.exit(main())

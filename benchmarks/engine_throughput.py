"""Lifecycles per second: raw in-memory SpiffWorkflow vs the service layer persisted on SQLite and PostgreSQL.

One lifecycle = start a 5-user-task process and complete its five tasks. The persisted runs
go through the same use cases the web and API call (validation, authorisation, inbox
projection, audit, optimistic locking, one transaction per step), as a CPI operator of the zone
(an account with its role and zone, authorised by its lane like any operator; not an administrator).

Each database is measured twice: with the workflow cache warm (the step finds the live
workflow this process left after the previous step: the best case, one process, no other
worker) and cold (`GOL_WORKFLOW_CACHE_SIZE=0`: every step loads and deserialises the state,
as a worker does that did not serve the case's previous step).

    .venv/bin/python benchmarks/engine_throughput.py [--lifecycles 1000] [--batch 4] [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from benchmarks.bench_processes import operator_sources  # noqa: E402
from gol_workflow.bootstrap import bootstrap  # noqa: E402
from gol_workflow.clock import ManualClock  # noqa: E402
from gol_workflow.config import Settings  # noqa: E402
from gol_workflow.domain.model import Actor  # noqa: E402
from gol_workflow.engine.parsing import compile_from_sources  # noqa: E402
from gol_workflow.persistence import schema  # noqa: E402
from gol_workflow.services.access import users  # noqa: E402
from gol_workflow.services.administration import deployment  # noqa: E402
from gol_workflow.services.workflow import instances as instance_service  # noqa: E402
from gol_workflow.services.workflow import tasks as task_service  # noqa: E402

DATA = ROOT / "tests" / "data"
ADMIN = Actor(username="bench", role="admin")
OPERATOR = Actor(username="bench.cpi", role="cpi", zones=frozenset({"pistoiese"}))
PROCESS = "five_steps"


class RawSeries:
    """In-memory SpiffWorkflow, default script engine, no persistence."""

    def __init__(self) -> None:
        source = (DATA / "processes" / "five_steps.bpmn").read_bytes()
        self.compiled = compile_from_sources({"five_steps.bpmn": source}, PROCESS)

    def lifecycle(self) -> None:
        """Start the process and complete its five tasks."""
        workflow = BpmnWorkflow(self.compiled.spec, self.compiled.subprocess_specs)
        workflow.do_engine_steps()
        while ready := workflow.get_tasks(state=TaskState.READY, manual=True):
            ready[0].data.update({"nota": "ok"})
            ready[0].run()
            workflow.do_engine_steps()

    def close(self) -> None:
        """Nothing to release."""


class PersistedSeries:
    """The service layer on a real database, one transaction per step."""

    def __init__(self, url: str, var_dir: Path, cache_size: int, *, first: bool) -> None:
        settings = Settings(
            database_url=url,
            processes_dir=DATA / "processes",
            forms_dir=DATA / "forms",
            zones_dir=ROOT / "zones",
            var_dir=var_dir,
            secret_key="bench",
            workflow_cache_size=cache_size,
        )
        self.rt = bootstrap(settings, clock=ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC)))
        if first:  # the warm and the cold series share one database: set it up once
            schema.upgrade(self.rt.db)
            self.rt.connectors.setdefault("test_registra", lambda call: {})  # deploy accepts only registered operators
            deployment.deploy(self.rt, operator_sources(), ADMIN)
            users.add_user(self.rt, OPERATOR.username, "cpi", ADMIN, ["pistoiese"], password="benchmark-password")

    def lifecycle(self) -> None:
        """Start the process and complete its five tasks, each in its own transaction."""
        # Each step answers with the task that follows, as the web and the API offer it next.
        result = instance_service.start_instance(self.rt, PROCESS, {"zona": "pistoiese"}, OPERATOR)
        for _ in range(5):
            result = task_service.complete_task(self.rt, result.next_tasks[0]["id"], {"nota": "ok"}, OPERATOR)
        if result.status != "completed" or result.next_tasks:
            raise RuntimeError(f"the lifecycle did not complete: {result}")

    def close(self) -> None:
        """Close the database connections."""
        self.rt.db.dispose()


class Series:
    """One thing measured: how long its lifecycles took, batch by batch."""

    def __init__(self, name: str, runner: RawSeries | PersistedSeries) -> None:
        self.name = name
        self.runner = runner
        self.seconds: list[float] = []

    def batch(self, n: int) -> None:
        """Run `n` lifecycles and record the time they took."""
        started = time.perf_counter()
        for _ in range(n):
            self.runner.lifecycle()
        self.seconds.append(time.perf_counter() - started)


def fresh_postgres(url: str) -> str:
    """Recreate the benchmark database so every run starts empty."""
    drop_postgres(url)
    with _maintenance(url) as conn:
        conn.execute(f'CREATE DATABASE "{url.rpartition("/")[2]}"')
    return url


def drop_postgres(url: str) -> None:
    """Drop a scratch database if it exists."""
    with _maintenance(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}"')


def _maintenance(url: str) -> psycopg.Connection:
    base = url.rpartition("/")[0].replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(base + "/postgres", autocommit=True)


def main() -> int:
    """Run the three series in alternating small batches and print their rates and ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lifecycles", type=int, default=1000, help="lifecycles per series")
    parser.add_argument("--batch", type=int, default=4, help="lifecycles per batch")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/gol_bench_engine",
                        help="PostgreSQL URL of a scratch database (dropped and recreated); '' to skip")
    args = parser.parse_args()
    print(f"conditions: one process, one client at a time; started and completed by the CPI operator "
          f"{OPERATOR.username} (zone pistoiese, authorised by the process's lane); {os.cpu_count()} CPUs, load average before "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite:///{tmp}/bench.sqlite3"
        series = [Series("raw", RawSeries()),
                  Series("sqlite warm", PersistedSeries(sqlite, Path(tmp), 512, first=True)),
                  Series("sqlite cold", PersistedSeries(sqlite, Path(tmp), 0, first=False))]
        if args.postgres:
            url = fresh_postgres(args.postgres)
            series.append(Series("postgres warm", PersistedSeries(url, Path(tmp), 512, first=True)))
            series.append(Series("postgres cold", PersistedSeries(url, Path(tmp), 0, first=False)))
        for item in series:  # warm caches and connections
            item.batch(args.batch)
            item.seconds.clear()
        # Batch by batch in turn, so that the machine's ups and downs (on a shared virtual
        # machine the same code runs up to half again slower from one second to the next)
        # fall on every series alike and the ratios stay comparable.
        for _ in range(max(1, args.lifecycles // args.batch)):
            for item in series:
                item.batch(args.batch)
        for item in series:
            item.runner.close()
        round_trips = _round_trips(args.postgres) if args.postgres else None
    raw = series[0]
    n = len(raw.seconds) * args.batch
    rate = {item.name: n / sum(item.seconds) for item in series}
    print(f"lifecycles per series: {n} (start + 5 user tasks), in {len(raw.seconds)} alternating batches of {args.batch}")
    print(f"raw SpiffWorkflow in memory : {rate['raw']:8.1f} lifecycles/s")
    targets = {"sqlite": ("SQLite", 0.20), "postgres": ("PostgreSQL", 0.12)}
    for item in series[1:]:
        database, cache = item.name.split()
        label, target = targets[database]
        ratios = sorted(r / p for r, p in zip(raw.seconds, item.seconds, strict=True))
        spread = f"batch ratios p10 {pick(ratios, 0.1):.1%}, median {statistics.median(ratios):.1%}, p90 {pick(ratios, 0.9):.1%}"
        goal = f"(target >= {target:.0%})" if cache == "warm" else "(no target)  "
        print(f"persisted on {label:<10} {cache} cache: {rate[item.name]:8.1f} lifecycles/s  = "
              f"{rate[item.name] / rate['raw']:6.1%} of raw {goal}   {spread}")
    print("warm cache: each step finds the workflow this process left after the previous one (best case); "
          "cold: every step loads and deserialises the state from the database")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if round_trips is not None:
        after_work, back_to_back = round_trips
        print(f"PostgreSQL round trip (SELECT 1): {after_work:.0f} µs after 1 ms of client work,"
              f" {back_to_back:.0f} µs back to back (a persisted step waits for one, after its client work)")
    return 0


def _round_trips(url: str, count: int = 300) -> tuple[float, float]:
    """Median round trip in µs when the server has idled for a millisecond, and when it has not."""
    after_work: list[float] = []
    back_to_back: list[float] = []
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        for _ in range(count):
            until = time.perf_counter() + 0.001
            while time.perf_counter() < until:  # the client busy, as between a step's round trips
                pass
            for samples in (after_work, back_to_back):
                started = time.perf_counter()
                conn.execute("SELECT 1")
                samples.append((time.perf_counter() - started) * 1e6)
    return statistics.median(after_work), statistics.median(back_to_back)


def pick(values: list[float], fraction: float) -> float:
    """The value at `fraction` of the way through sorted `values` (p10 is 0.1)."""
    return values[min(len(values) - 1, int(fraction * len(values)))]


if __name__ == "__main__":
    sys.exit(main())

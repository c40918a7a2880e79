"""The heat of Percorso 4 (cases at each element now, median and p90 time in each user task over a period)
on the national data set in PostgreSQL: the whole use case, `services.administration.heat.heat_of`.

The data set is read, never written, except for the indexes the heat reads through (migration 0018 adds
them; on a data set generated at an older schema `--create-indexes` builds them, CONCURRENTLY, once).
The period ends at the data set's newest task completion (its "now" is when it was generated) and lasts
`--days` days; each figure is the wall time of one call, after one warm-up call. Any error fails the run.

    .venv/bin/python benchmarks/heat.py [--postgres URL] [--days 30] [--repeat 40] [--create-indexes]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gol_workflow.bootstrap import bootstrap  # noqa: E402
from gol_workflow.config import Settings  # noqa: E402
from gol_workflow.domain.model import Actor  # noqa: E402
from gol_workflow.persistence.tables import STEP_ACTIONS  # noqa: E402
from gol_workflow.services.administration import heat  # noqa: E402

ADMIN = Actor(username="bench.admin", role="admin")
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/gol_national"
TARGET_MS = 500.0
STEPS = ", ".join(f"'{a}'" for a in STEP_ACTIONS)
INDEXES = (
    ("ix_audit_events_completed_at",
     "ON audit_events (at) INCLUDE (instance_id, element_id, id) WHERE action = 'task.completed'"),
    ("ix_audit_events_steps", f"ON audit_events (instance_id, id) INCLUDE (at) WHERE action IN ({STEPS})"),
    ("ix_instances_version_status_step", "ON instances (process_version_id, status, current_step) INCLUDE (id)"),
)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def create_indexes(url: str) -> None:
    """Build the heat's indexes where the data set lacks them (CONCURRENTLY: readers are not blocked)."""
    with psycopg.connect(url, autocommit=True) as conn:
        for name, body in INDEXES:
            started = time.perf_counter()
            conn.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} {body}")
            print(f"index {name}: {time.perf_counter() - started:.1f} s", flush=True)


def facts(url: str, process_id: str) -> tuple[int, int, int, object]:
    """The latest version of the process, its cases, the audit rows, and the newest task completion."""
    with psycopg.connect(url) as conn:
        version = conn.execute("SELECT max(version) FROM process_versions WHERE process_id = %s",
                               (process_id,)).fetchone()[0]
        cases = conn.execute("SELECT count(*) FROM instances WHERE process_id = %s", (process_id,)).fetchone()[0]
        audit = conn.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'audit_events'").fetchone()[0]
        newest = conn.execute("SELECT max(at) FROM audit_events WHERE action = 'task.completed'").fetchone()[0]
        missing = [name for name, _ in INDEXES if conn.execute(
            "SELECT 1 FROM pg_indexes WHERE indexname = %s", (name,)).fetchone() is None]
    if version is None or newest is None:
        raise SystemExit(f"no {process_id} cases with completed tasks in this database")
    if missing:
        raise SystemExit(f"missing indexes {', '.join(missing)}: run with --create-indexes (or upgrade the schema)")
    return int(version), int(cases), int(audit), newest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=DEFAULT_URL)
    parser.add_argument("--process", default="percorso4")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--create-indexes", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average before {load()}", flush=True)
    if args.create_indexes:
        create_indexes(args.postgres)
    version, cases, audit, newest = facts(args.postgres, args.process)
    until = newest
    since = until - timedelta(days=args.days)
    with tempfile.TemporaryDirectory() as var_dir:
        settings = Settings(database_url=args.postgres, processes_dir=ROOT / "processes", forms_dir=ROOT / "forms",
                            zones_dir=ROOT / "zones", var_dir=Path(var_dir), secret_key="benchmark",
                            embedded_scheduler=False)
        rt = bootstrap(settings)
        first = heat.heat_of(rt, ADMIN, args.process, version, since, until)  # warm-up: compiles the version
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = heat.heat_of(rt, ADMIN, args.process, version, since, until)
            times.append((time.perf_counter() - started) * 1000)
    waiting = sum(e.waiting for e in first.elements)
    completed = sum(e.completed for e in first.elements)
    times.sort()
    p50 = statistics.median(times)
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    print(f"{args.process} v{version}: {cases:,} instances, ~{audit:,} audit rows; period {since:%Y-%m-%d} to "
          f"{until:%Y-%m-%d} ({args.days} days): {completed:,} task completions, {waiting:,} cases waiting now, "
          f"{len(result.elements)} elements")
    print(f"heat_of over {args.repeat} calls: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms "
          f"(target p95 <= {TARGET_MS:.0f} ms: {'met' if p95 <= TARGET_MS else 'NOT met'})")
    print(f"load average after {load()}")
    for e in first.elements[:8]:
        p50e = f"{e.p50_seconds / 86400:.1f} d" if e.p50_seconds is not None else "-"
        p90e = f"{e.p90_seconds / 86400:.1f} d" if e.p90_seconds is not None else "-"
        print(f"  {e.name[:40]:40} now {e.waiting:6,}  done {e.completed:6,}  p50 {p50e:>8}  p90 {p90e:>8}")


if __name__ == "__main__":
    main()

"""Timer firing on PostgreSQL: 10,000 timers due at once with one and more scheduler processes, latency, duplicates.

The instances run `tests/data/processes/timer_wait.bpmn` (a two-day timer, then a user task). One instance is
started through the service; the others are cloned from its row with fresh instance and task ids and their own
due time written into the stored timer, then bulk-inserted (starting 10,000 through the service would take
longer than firing them). The scheduler processes are real `gol-workflow scheduler` subprocesses on the real
clock. A timer's latency is the time between its due instant and the instant the scheduler fired it (the
`timer.fired` audit event; its transaction commits a few milliseconds later). Targets: all 10,000
fired within 30 s of falling due; a single timer's p99 lateness <= 2 s (here on an otherwise idle
service; `mixed_load.py` measures it while the web load runs). A duplicate or a lost timer fails
the run (exit status 1).

    .venv/bin/python benchmarks/timers.py [--count 10000] [--schedulers 1,2,3] [--spread 300] [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.http_completions import _backends, _cpu_of  # noqa: E402
from gol_workflow.bootstrap import bootstrap  # noqa: E402
from gol_workflow.clock import ManualClock  # noqa: E402
from gol_workflow.config import Settings  # noqa: E402
from gol_workflow.domain.model import Actor  # noqa: E402
from gol_workflow.persistence import schema  # noqa: E402
from gol_workflow.persistence.tables import audit_events, instances  # noqa: E402
from gol_workflow.services.administration import deployment  # noqa: E402
from gol_workflow.services.workflow import timers  # noqa: E402
from gol_workflow.services.workflow import instances as instance_service  # noqa: E402
from gol_workflow.services.workflow.runtime import Runtime  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
GOL = Path(sys.executable).parent / "gol-workflow"
ADMIN = Actor(username="bench", role="admin")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIMER_WAIT = timedelta(days=2)


@dataclass
class Fired:
    """What the audit log says about one run."""

    count: int
    distinct: int
    latencies: list[float]  # seconds from due to fired, per event

    @property
    def duplicates(self) -> int:
        """Timers that fired more than once."""
        return self.count - self.distinct


def fresh_database(url: str) -> None:
    """Recreate the benchmark database so every run starts empty."""
    base, _, name = url.rpartition("/")
    admin = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def build_runtime(url: str, var_dir: Path) -> tuple[Runtime, ManualClock]:
    """A migrated runtime with the timer process deployed, on a clock the benchmark sets."""
    settings = Settings(database_url=url, processes_dir=DATA / "processes", forms_dir=DATA / "forms",
                        zones_dir=var_dir / "no-zones", var_dir=var_dir, secret_key="bench")
    clock = ManualClock(datetime.now(UTC))
    rt = bootstrap(settings, clock=clock)
    schema.upgrade(rt.db)
    deployment.deploy(rt, deployment.read_sources(DATA / "processes" / "timer_wait.bpmn", DATA / "forms"), ADMIN)
    return rt, clock


def clear(rt: Runtime) -> None:
    """Remove every instance and event of a previous phase (the deployed process stays)."""
    with rt.db.begin() as conn:
        conn.execute(text("TRUNCATE instances, tasks, subscriptions, pending_messages, audit_events, "
                          "scheduler_heartbeats CASCADE"))
    rt.workflows.clear()


def clone_timers(rt: Runtime, clock: ManualClock, due_times: list[datetime]) -> float:
    """Start one instance through the service, clone it once per due time; returns the seconds taken."""
    started = time.perf_counter()
    clock.set(due_times[0] - TIMER_WAIT)
    template_id = instance_service.start_instance(rt, "timer_wait", {"zona": "bench"}, ADMIN).instance_id
    with rt.uow(write=False) as uow:
        template = dict(uow.instances.full(template_id) or {})
    template_due = template["next_due_at"].isoformat()
    ids = sorted(set(UUID_RE.findall(template["state"])))
    rows: list[dict[str, Any]] = []
    for due in due_times[1:]:
        state = template["state"].replace(template_due, due.isoformat())
        renamed = {old: str(uuid.uuid4()) for old in ids}
        state = UUID_RE.sub(lambda m, names=renamed: names.get(m.group(0), m.group(0)), state)
        rows.append({**template, "id": renamed[template_id], "state": state, "next_due_at": due})
    with rt.db.begin() as conn:
        for start in range(0, len(rows), 1000):
            conn.execute(insert(instances), rows[start:start + 1000])
    return time.perf_counter() - started


def waiting(rt: Runtime) -> int:
    """Instances whose timer has not fired yet."""
    with rt.uow(write=False) as uow:
        stmt = select(func.count()).select_from(instances).where(instances.c.next_due_at.is_not(None))
        return int(uow.conn.execute(stmt).scalar_one())


def fired(rt: Runtime) -> Fired:
    """Read every `timer.fired` event with its due time."""
    with rt.uow(write=False) as uow:
        stmt = select(audit_events.c.instance_id, audit_events.c.at, audit_events.c.data).where(
            audit_events.c.action == "timer.fired")
        rows = uow.conn.execute(stmt).all()
    latencies = [(row.at - datetime.fromisoformat(row.data["due_at"])).total_seconds() for row in rows]
    return Fired(len(rows), len({row.instance_id for row in rows}), latencies)


def start_schedulers(rt: Runtime, count: int, log_dir: Path) -> list[subprocess.Popen[bytes]]:
    """Real `gol-workflow scheduler` processes on the benchmark database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOL_")}
    env.update(GOL_DATABASE_URL=rt.settings.database_url, GOL_SECRET_KEY="bench", GOL_VAR_DIR=str(log_dir),
               GOL_ZONES_DIR=str(log_dir / "no-zones"), GOL_CLOCK="system")
    procs = []
    for number in range(count):
        with (log_dir / f"scheduler-{number}.log").open("wb") as out:
            procs.append(subprocess.Popen([str(GOL), "scheduler", "--name", f"bench-{number}"], env=env,
                                          stdout=out, stderr=subprocess.STDOUT))
    return procs


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Stop the schedulers and wait for them."""
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(timeout=120)


def wait_all_fired(rt: Runtime, timeout: float) -> None:
    """Poll until no instance waits any more."""
    deadline = time.monotonic() + timeout
    while waiting(rt) and time.monotonic() < deadline:
        time.sleep(0.25)


def baseline(rt: Runtime, clock: ManualClock, count: int) -> float:
    """Fires per second of `run_due_timers` in this process, without a scheduler (the same-run baseline)."""
    clear(rt)
    now = datetime.now(UTC)
    clone_timers(rt, clock, [now - timedelta(minutes=1)] * count)
    clock.set(now)
    started = time.perf_counter()
    fired_now = timers.run_due_timers(rt)
    return fired_now / (time.perf_counter() - started)


def burst(rt: Runtime, clock: ManualClock, count: int, schedulers: int, log_dir: Path
          ) -> tuple[float, float, Fired, float]:
    """`count` timers due at one instant with running schedulers: (clone s, s to fire all, events, CPU ms per timer)."""
    clear(rt)
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=20)
    cloned = clone_timers(rt, clock, [due] * count)
    procs = start_schedulers(rt, schedulers, log_dir)
    url = rt.settings.database_url
    try:
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
        before = {pid: _cpu_of(pid) for pid in [*(p.pid for p in procs), *_backends(url)]}
        wait_all_fired(rt, timeout=600)
        after = {pid: _cpu_of(pid) for pid in [*(p.pid for p in procs), *_backends(url)]}
    finally:
        stop(procs)
    result = fired(rt)
    cpu = sum(value - before.get(pid, 0.0) for pid, value in after.items())
    return cloned, max(result.latencies), result, 1000 * cpu / max(1, result.distinct)


def spread(rt: Runtime, clock: ManualClock, count: int, seconds: float, log_dir: Path) -> Fired:
    """`count` timers due at spread-out instants over `seconds`, one running scheduler."""
    clear(rt)
    first = datetime.now(UTC) + timedelta(seconds=15)
    step = seconds / max(1, count - 1)
    clone_timers(rt, clock, [first + timedelta(seconds=i * step + (i % 7) * 0.013) for i in range(count)])
    procs = start_schedulers(rt, 1, log_dir)
    try:
        time.sleep(max(0.0, (first - datetime.now(UTC)).total_seconds() + seconds))
        wait_all_fired(rt, timeout=120)
    finally:
        stop(procs)
    return fired(rt)


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    """Run the phases and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--schedulers", default="1,2", help="scheduler processes of each burst, in turn")
    parser.add_argument("--spread", type=int, default=300, help="timers for the latency phase")
    parser.add_argument("--spread-seconds", type=float, default=60.0)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/gol_bench_timers")
    args = parser.parse_args()
    counts = [int(n) for n in args.schedulers.split(",")]
    print(f"conditions: PostgreSQL, real `gol-workflow scheduler` processes on the system clock; "
          f"{os.cpu_count()} CPUs, load average before {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    fresh_database(args.postgres)
    with tempfile.TemporaryDirectory() as tmp:
        log_dir = Path(tmp)
        (log_dir / "no-zones").mkdir()
        rt, clock = build_runtime(args.postgres, log_dir)
        base_rate = baseline(rt, clock, max(500, args.count // 10))
        bursts = []
        for schedulers in counts:
            bursts.append((schedulers, *burst(rt, clock, args.count, schedulers, log_dir)))
        late = spread(rt, clock, args.spread, args.spread_seconds, log_dir)
        rt.db.dispose()
    print(f"{args.count} instances due at one instant: 1 started through the service, the rest cloned "
          f"(fresh instance and task ids) and bulk-inserted in {bursts[0][1]:.1f} s")
    print(f"baseline, run_due_timers in one process  : {base_rate:7.0f} timers/s")
    failed = False
    for schedulers, _, secs, result, cpu_ms in bursts:
        rate = result.distinct / secs
        met = secs <= 30 and result.distinct == args.count
        failed = failed or result.duplicates > 0 or result.distinct != args.count
        print(f"{schedulers} scheduler process{'es' if schedulers > 1 else '  '}: all {result.distinct} fired "
              f"{secs:5.1f} s after they fell due ({rate:5.0f}/s = {rate / base_rate:4.2f} x baseline; target <= 30 s: "
              f"{'met' if met else 'MISSED'}); duplicates {result.duplicates}, lost {args.count - result.distinct}; "
              f"CPU {cpu_ms:.1f} ms per timer (schedulers and database backends)")
    ms = [v * 1000 for v in late.latencies]
    p99 = percentile(ms, 0.99)
    failed = failed or late.duplicates > 0 or late.distinct != args.spread
    print(f"latency of {late.distinct} timers due at spread-out instants over {args.spread_seconds:.0f} s, one "
          f"scheduler: p50 {percentile(ms, 0.5):.0f} ms, p99 {p99:.0f} ms, "
          f"max {max(ms):.0f} ms, mean {statistics.mean(ms):.0f} ms (target p99 <= 2000 ms: "
          f"{'met' if p99 <= 2000 else 'MISSED'}); duplicates {late.duplicates}, lost {args.spread - late.distinct}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if failed:
        print("a timer fired twice or never: the run FAILED")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

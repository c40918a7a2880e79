"""Task completions per second over the REST API: gunicorn, several workers, PostgreSQL, concurrent clients.

The scratch database gets a CPI operator with an API token and enough cases of the 5-step
test process (its lane given to CPI operators: the operator is authorised as any operator is,
not as an administrator). Each client (a thread) takes a case, completes its ready task with
`POST /api/v1/tasks/{id}/complete`, then completes the next task the answer names, as an
operator's client would, until the case is done; then takes the next case. **Every request
opens a new connection** (`Connection: close`), so requests spread over the gunicorn workers as
a proxy's would, and a step lands on the worker that served the case's previous step only by
chance. Every completion is a real one: token check, authorisation, form validation, the engine
step, the inbox and audit writes, one transaction.

Measured twice, each on a freshly started server: with the workers' workflow cache on (the
default; a step finds the live workflow only where the same worker served the previous step)
and off (`GOL_WORKFLOW_CACHE_SIZE=0`: every step loads the state, the cold case). With 1 and 8
clients (interleaved runs, medians), against a baseline measured in the same run: the same
completions through the service layer in-process, one at a time, without HTTP. **Any error
(a status other than 200, a connection that fails) fails the run** (exit status 1).
Target: >= 100 completions/s with p95 <= 100 ms on a 2-vCPU machine, cold and warm.

    .venv/bin/python benchmarks/http_completions.py [--postgres URL] [--workers 4] [--threads 2]
        [--completions 1500] [--clients 1,8] [--runs 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_processes import operator_sources  # noqa: E402
from gol_workflow.bootstrap import bootstrap  # noqa: E402
from gol_workflow.clock import ManualClock  # noqa: E402
from gol_workflow.config import Settings  # noqa: E402
from gol_workflow.domain.model import Actor  # noqa: E402
from gol_workflow.persistence import schema  # noqa: E402
from gol_workflow.services.administration import deployment  # noqa: E402
from gol_workflow.services.access import tokens, users  # noqa: E402
from gol_workflow.services.workflow import instances as instance_service  # noqa: E402
from gol_workflow.services.workflow import tasks as task_service  # noqa: E402
from gol_workflow.services.workflow.runtime import Runtime  # noqa: E402

DATA = ROOT / "tests" / "data"
ADMIN = Actor(username="bench", role="admin")
OPERATOR = Actor(username="bench.cpi", role="cpi", zones=frozenset({"pistoiese"}))
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/gol_api_bench"
STEPS = 5  # user tasks per case
BODY = json.dumps({"data": {"nota": "fatto"}}).encode()


# -- set-up ----------------------------------------------------------------------------------


def fresh_database(url: str) -> None:
    """Drop and recreate the scratch database, then migrate it."""
    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/template1", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def settings_for(url: str, var_dir: Path) -> Settings:
    """Settings of the benchmark's runtime (the server gets the same through the environment)."""
    return Settings(database_url=url, processes_dir=DATA / "processes", forms_dir=DATA / "forms",
                    zones_dir=ROOT / "zones", var_dir=var_dir, secret_key="benchmark-secret")


def prepare(url: str, var_dir: Path) -> tuple[Runtime, str]:
    """Schema, test processes, the operator account and its token."""
    rt = bootstrap(settings_for(url, var_dir), clock=ManualClock(datetime(2026, 1, 5, 8, 0, tzinfo=UTC)))
    schema.upgrade(rt.db)
    rt.connectors.setdefault("test_registra", lambda call: {})  # deploy accepts only registered operators
    deployment.deploy(rt, operator_sources(), ADMIN)
    users.add_user(rt, OPERATOR.username, "cpi", ADMIN, ["pistoiese"], password="benchmark-password")
    return rt, tokens.issue_token(rt, OPERATOR.username, ADMIN, "benchmark").secret


def seed_cases(rt: Runtime, count: int) -> list[str]:
    """Start `count` cases (4 threads); returns the id of each case's first ready task."""
    def one(_: int) -> str:
        return str(instance_service.start_instance(rt, "five_steps", {"zona": "pistoiese"}, OPERATOR).next_tasks[0]["id"])

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(count)))


# -- the server ------------------------------------------------------------------------------


def free_port() -> int:
    """An ephemeral port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(url: str, var_dir: Path, workers: int, threads: int, cache: int) -> Iterator[tuple[int, int]]:
    """The WSGI app on gunicorn (gthread workers), until the block ends; yields port and pid."""
    port = free_port()
    env = {**os.environ, "GOL_DATABASE_URL": url, "GOL_WORKFLOW_CACHE_SIZE": str(cache), "GOL_SECRET_KEY": "benchmark-secret-" + "x" * 32, "GOL_PRODUCTION": "1",
           "GOL_EMBEDDED_SCHEDULER": "0", "GOL_ZONES_DIR": str(ROOT / "zones"), "GOL_VAR_DIR": str(var_dir),
           "GOL_PROCESSES_DIR": str(DATA / "processes"), "GOL_FORMS_DIR": str(DATA / "forms"),
           "GOL_ROLES_FILE": str(ROOT / "processes" / "roles.toml")}
    command = [sys.executable, "-m", "gunicorn", "gol_workflow.web.wsgi:create()", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
               "--keep-alive", "30", "--log-level", "warning"]
    log = (var_dir / f"gunicorn-{port}.log").open("wb")  # the request log stays out of the figures
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(port)
        yield port, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def wait_until_up(port: int, timeout: float = 60) -> None:
    """Poll the API document until the server answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/openapi.json")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


# -- CPU accounting: what one completion costs, whatever else runs on the machine --------------


TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _backends(url: str) -> list[int]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                            "AND pid <> pg_backend_pid()").fetchall()
    return [int(r[0]) for r in rows]


def cpu_snapshot(server: int, url: str) -> dict[str, dict[int, float]]:
    """CPU seconds so far of the gunicorn workers and of the PostgreSQL backends serving them."""
    return {"app": {p: _cpu_of(p) for p in [server, *_children(server)]},
            "db": {p: _cpu_of(p) for p in _backends(url)}}


def cpu_spent(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds spent between two snapshots, by side."""
    return {side: sum(cpu - before[side].get(pid, 0.0) for pid, cpu in after[side].items()) for side in after}


# -- the clients -----------------------------------------------------------------------------


@dataclass
class Result:
    """One measurement."""

    clients: int
    completions: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # seconds spent by the app and the database

    def cpu_ms(self, side: str) -> float:
        """CPU milliseconds per completion on one side."""
        return 1000 * self.cpu.get(side, 0.0) / max(1, self.completions)

    @property
    def rate(self) -> float:
        """Completions per second."""
        return self.completions / self.seconds

    def percentile(self, p: float) -> float:
        """Latency percentile in milliseconds."""
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def post(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """One request on a connection of its own, closed after the answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=BODY, headers={**headers, "Connection": "close"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def client(port: int, token: str, cases: queue.Queue[str], budget: Callable[[], bool], result: Result,
           lock: threading.Lock, start: threading.Barrier) -> None:
    """Complete cases step by step, a new connection per request, until the budget is spent."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    latencies: list[float] = []
    errors: list[str] = []
    start.wait()
    task_id: str | None = None
    while budget():
        if task_id is None:
            try:
                task_id = cases.get_nowait()
            except queue.Empty:
                errors.append("ran out of seeded cases")
                break
        began = time.perf_counter()
        try:
            status, payload = post(port, f"/api/v1/tasks/{task_id}/complete", headers)
        except OSError as exc:
            errors.append(f"task {task_id}: {exc!r}")
            task_id = None
            continue
        latencies.append(time.perf_counter() - began)
        if status != 200:
            errors.append(f"task {task_id}: {status} {payload[:200]!r}")
            latencies.pop()
            task_id = None
            continue
        following = json.loads(payload)["next_tasks"]
        task_id = following[0]["id"] if following else None
    with lock:
        result.latencies.extend(latencies)
        result.errors.extend(errors)


def measure(server: tuple[int, int], url: str, token: str, cases: queue.Queue[str], clients: int,
            completions: int) -> Result:
    """`completions` completions by `clients` concurrent clients, with the CPU they cost the server."""
    port, pid = server
    result = Result(clients, 0, 0.0)
    lock = threading.Lock()
    issued = iter(range(completions))
    start = threading.Barrier(clients + 1)

    def budget() -> bool:
        with lock:
            return next(issued, None) is not None

    threads = [threading.Thread(target=client, args=(port, token, cases, budget, result, lock, start))
               for _ in range(clients)]
    for thread in threads:
        thread.start()
    before = cpu_snapshot(pid, url)
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    result.cpu = cpu_spent(before, cpu_snapshot(pid, url))
    result.completions = len(result.latencies)
    return result


def in_process(rt: Runtime, cases: queue.Queue[str], completions: int) -> float:
    """Baseline: the same completions through the service layer, no HTTP, one at a time."""
    done, began = 0, time.perf_counter()
    task_id: str | None = None
    while done < completions:
        task_id = task_id or cases.get_nowait()
        outcome = task_service.complete_task(rt, task_id, {"nota": "fatto"}, OPERATOR)
        task_id = outcome.next_tasks[0]["id"] if outcome.next_tasks else None
        done += 1
    return done / (time.perf_counter() - began)


# -- the run ---------------------------------------------------------------------------------


def load() -> str:
    """The load average (1, 5, 15 minutes), so noisy figures can be told apart."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def report(label: str, results: list[Result], baseline: float) -> Result:
    """Print the median run of a series and return it."""
    middle = sorted(results, key=lambda r: r.rate)[len(results) // 2]
    rates = ", ".join(f"{r.rate:.0f}" for r in results)
    print(f"{label:>10}: {middle.rate:6.1f} completions/s (runs: {rates}); p50 {middle.percentile(50):5.1f} ms, "
          f"p95 {middle.percentile(95):5.1f} ms, p99 {middle.percentile(99):5.1f} ms; "
          f"errors {sum(len(r.errors) for r in results)}; x{middle.rate / baseline:.2f} of the in-process baseline")
    print(f"{'':>10}  CPU per completion: {middle.cpu_ms('app'):.1f} ms in gunicorn + {middle.cpu_ms('db'):.1f} ms "
          f"in PostgreSQL = {middle.cpu_ms('app') + middle.cpu_ms('db'):.1f} ms")
    return middle


def main() -> int:
    """Seed, then for the cache on and off: start gunicorn, measure 1 and 8 clients interleaved, print medians."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=DEFAULT_URL, help="scratch database (dropped and recreated)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (as `gol-workflow serve`)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (as `gol-workflow serve`)")
    parser.add_argument("--completions", type=int, default=1500, help="completions per measurement")
    parser.add_argument("--clients", default="1,8")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    series = [int(c) for c in args.clients.split(",")]
    caches = (("warm", 512), ("cold", 0))
    per_run = args.completions * len(series)
    cases_needed = len(caches) * ((per_run + args.completions) * args.runs // STEPS
                                  + 2 * max(series) * (args.runs + 1) + 40 * args.workers)
    fresh_database(args.postgres)
    print(f"conditions: PostgreSQL, gunicorn {args.workers} workers x {args.threads} threads (gthread), a new "
          f"connection per request; completions by the CPI operator {OPERATOR.username} (API token, authorised by "
          f"the lane); {os.cpu_count()} CPUs", flush=True)
    errors: list[str] = []
    chosen: dict[str, dict[int, Result]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rt, token = prepare(args.postgres, Path(tmp))
        print(f"seeding {cases_needed} cases ({cases_needed * STEPS} tasks) ...", flush=True)
        first_tasks = seed_cases(rt, cases_needed)
        cases: queue.Queue[str] = queue.Queue()
        local: queue.Queue[str] = queue.Queue()
        for index, task in enumerate(first_tasks):
            (local if index % (len(series) + 1) == 0 else cases).put(task)
        for label, size in caches:
            results: dict[int, list[Result]] = {c: [] for c in series}
            print(f"workflow cache {label} (GOL_WORKFLOW_CACHE_SIZE={size}); load average before: {load()}", flush=True)
            with gunicorn(args.postgres, Path(tmp), args.workers, args.threads, size) as server:
                # Every worker started and imported before measuring; with the cache on this also fills it.
                warm_up = measure(server, args.postgres, token, cases, max(series), 10 * args.workers)
                errors.extend(warm_up.errors)
                baselines = []
                for _ in range(args.runs):  # interleaved: the machine's noise hits every series alike
                    baselines.append(in_process(rt, local, args.completions))
                    for clients in series:
                        results[clients].append(measure(server, args.postgres, token, cases, clients, args.completions))
                baseline = statistics.median(baselines)
            print(f"load average after: {load()}")
            print(f"  baseline: {baseline:6.1f} completions/s in-process, one at a time, no HTTP "
                  f"(runs: {', '.join(f'{b:.0f}' for b in baselines)})")
            chosen[label] = {c: report(f"{c} client{'s' if c > 1 else ''}", results[c], baseline) for c in series}
            errors.extend(e for rs in results.values() for r in rs for e in r.errors)
    rt.db.dispose()
    print(f"{args.completions} completions per run, median of {args.runs} interleaved runs per series")
    verdicts = []
    for label, by_clients in chosen.items():
        top = by_clients[max(series)]
        met = top.rate >= 100 and top.percentile(95) <= 100
        verdicts.append(met)
        print(f"target (>= 100 completions/s, p95 <= 100 ms with {max(series)} clients), cache {label}: "
              f"{'met' if met else 'NOT met'}")
    if errors:
        print(f"{len(errors)} errors, the run FAILED; e.g.: " + "; ".join(errors[:5]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

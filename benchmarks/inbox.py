"""The operator inbox at 1,000 and at 1,000,000 cases: 8 operators of four roles and zones, writes running, p95 and ratio.

Runs against two databases filled by national_dataset.py with the same zones (so the same
operators): the large one (1,000,000 cases by default, `--large`) and a small one (`--small`,
made with `national_dataset.py --cases 1000`). For each, the web service runs on gunicorn
(gthread workers, the production WSGI entry) and every request opens a new connection, so
requests spread over the workers. The eight operators of the case list benchmark (two CPI
operators, two social services operators, two ATS case managers, two specialists, of eight
zones) each cycle through their inbox on the web (`/attivita`) and the API (`GET /api/v1/tasks`):
first page, their own queue, the free queue, the overdue queue, sorted by due date, by
beneficiary, a zone, part of a beneficiary's name, page 2. Meanwhile two clients open cases and
complete their profiling over the API (writes into the tasks table the inbox reads).

Server time is the app's own `Server-Timing` figure (from the moment the request reaches the app,
session or token included, to the response); wall time is what the client saw, connection set-up
included. "Cold" is each operator's first request of each kind after the server starts. Any
error fails the run: a status other than 200, a failed completion, a response without
`Server-Timing`. Targets: p95 <= 50 ms at 1,000,000 cases and p95(1M) / p95(1k) <= 1.5.

    .venv/bin/python benchmarks/inbox.py --large URL --small URL [--zones-dir var/national/zones]
        [--small-zones-dir var/inbox-1k/zones] [--workers 4] [--threads 2] [--rounds 10] [--completers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.case_list import (  # noqa: E402
    COMPLETER, Operator, Tally, call, completer_client, crashes_count_as_errors, login, pct, prepare, scope_sql,
    start_server)
from benchmarks.http_completions import cpu_snapshot, cpu_spent  # noqa: E402
from benchmarks.national_dataset import DEFAULT_URL  # noqa: E402

TARGET_MS = 50.0
TARGET_RATIO = 1.5


def task_names(url: str, ops: list[Operator]) -> None:
    """Beneficiaries' surnames of tasks each operator may see (for the name search), else their cases'."""
    with psycopg.connect(url) as conn:
        for op in ops:
            where, params = scope_sql(op)
            found = [r[0] for r in conn.execute(
                f"SELECT t.beneficiary_name FROM tasks t JOIN cases c ON c.id = t.case_id WHERE "
                f"{' AND '.join('c.' + part.strip() for part in where.split(' AND '))} "
                f"AND t.beneficiary_name IS NOT NULL LIMIT 200", params)]
            surnames = sorted({name.split(" ", 1)[1] for name in found if " " in name})
            op.surnames = surnames or op.surnames


def requests_of(op: Operator, rnd: random.Random) -> list[tuple[str, str]]:
    """One round of (kind, path) for an operator: every inbox shape on the web and the API."""
    part = rnd.choice(op.surnames)[1:4].lower() if op.surnames else "ros"
    shapes = {
        "inbox: first page": ({}, {}),
        "inbox: my queue": ({"coda": "mie"}, {"queue": "mine"}),
        "inbox: free queue": ({"coda": "libere"}, {"queue": "unassigned"}),
        "inbox: overdue": ({"coda": "scadute"}, {"queue": "overdue"}),
        "inbox: by due date": ({"ordina": "scadenza"}, {"sort": "due"}),
        "inbox: by beneficiary": ({"ordina": "beneficiario"}, {"sort": "beneficiary"}),
        "inbox: zone": ({"zona": op.zone}, {"zone": op.zone}),
        "inbox: name part": ({"cerca": part}, {"q": part}),
        "inbox: page 2": ({"pagina": "2"}, {"page": "2"}),
    }
    out: list[tuple[str, str]] = []
    for kind, (web, api) in shapes.items():
        out.append((f"web {kind}", "/attivita" + ("?" + urlencode(web) if web else "")))
        out.append((f"api {kind}", "/api/v1/tasks" + ("?" + urlencode(api) if api else "")))
    rnd.shuffle(out)
    return out


def operator_client(port: int, op: Operator, rounds: int, seed: int, tally: Tally, start: threading.Barrier) -> None:
    """The operator's requests: one cold round, then `rounds` warm ones; no Server-Timing is an error."""
    rnd = random.Random(seed)
    start.wait()
    seen: set[str] = set()
    for _ in range(rounds + 1):
        for kind, path in requests_of(op, rnd):
            headers = {"Authorization": f"Bearer {op.token}"} if path.startswith("/api/") else {"Cookie": op.cookie}
            status, ms, _, response = call(port, "GET", path, headers)
            timing = re.search(r"dur=([0-9.]+)", response.getheader("Server-Timing") or "")
            if status != 200 or timing is None:
                with tally.lock:
                    tally.errors.append(f"{op.username} GET {path}: {status}"
                                        + ("" if timing else " without Server-Timing"))
                continue
            tally.add(kind, ms, kind not in seen, float(timing.group(1)))
            seen.add(kind)


def run(url: str, zones_dir: Path, args: argparse.Namespace, label: str) -> tuple[Tally, dict[str, float]]:
    """Serve one data set and run the operators and the completers; returns the tally and headline figures."""
    var_dir = Path(tempfile.mkdtemp(prefix="gol-inbox-"))
    with psycopg.connect(url) as conn:
        cases, tasks = conn.execute("SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM tasks)").fetchone()
    ops, completer = prepare(url, zones_dir, var_dir, args.seed)
    task_names(url, ops)
    with psycopg.connect(url) as conn:
        visible = []
        for op in ops:
            where, params = scope_sql(op)
            visible.append(conn.execute(
                f"SELECT count(*) FROM tasks t JOIN cases c ON c.id = t.case_id WHERE "
                f"{' AND '.join('c.' + part.strip() for part in where.split(' AND '))}", params).fetchone()[0])
    print(f"{label}: {cases:,} cases, {tasks:,} ready tasks; operators' cases' tasks: "
          f"{', '.join(f'{o.username} {n:,}' for o, n in zip(ops, visible))}; load average before "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    process, port = start_server(url, zones_dir, var_dir, args.workers, args.threads)
    tally = Tally()
    crashes_count_as_errors(tally.errors)
    stop = threading.Event()
    try:
        for op in ops:
            login(port, op)
        start = threading.Barrier(len(ops) + 1)
        threads = [threading.Thread(target=operator_client, args=(port, op, args.rounds, args.seed + i, tally, start))
                   for i, op in enumerate(ops)]
        completers = [threading.Thread(target=completer_client, args=(port, completer, "zona-099", i, stop, tally))
                      for i in range(args.completers)]
        for thread in threads + completers:
            thread.start()
        before = cpu_snapshot(process.pid, url)
        began = time.perf_counter()
        start.wait()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - began
        cpu = cpu_spent(before, cpu_snapshot(process.pid, url))
        stop.set()
        for thread in completers:
            thread.join()
    finally:
        process.terminate()
        process.wait(timeout=30)
    reads = sum(len(v) for v in tally.warm.values()) + sum(len(v) for v in tally.cold.values())
    server = [v for vs in tally.server.values() for v in vs]
    wall = [v for vs in tally.warm.values() for v in vs]
    print(f"  {reads:,} reads in {seconds:.1f} s while {len(tally.completions):,} writes ran; CPU gunicorn "
          f"{cpu['app']:.1f} s, PostgreSQL {cpu['db']:.1f} s; load average after "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("  | request | n | wall p50 | wall p95 | server p50 | server p95 | cold max |")
    print("  |---|---:|---:|---:|---:|---:|---:|")
    for kind in sorted(tally.warm):
        warm, cold = tally.warm[kind], tally.cold.get(kind, [])
        print(f"  | {kind} | {len(warm)} | {pct(warm, 50):.1f} | {pct(warm, 95):.1f} | "
              f"{pct(tally.server[kind], 50):.1f} | {pct(tally.server[kind], 95):.1f} | {max(cold) if cold else 0:.1f} |")
    figures = {"server_p50": pct(server, 50), "server_p95": pct(server, 95), "wall_p50": pct(wall, 50),
               "wall_p95": pct(wall, 95)}
    print(f"  all inbox requests (warm): server p50 {figures['server_p50']:.1f} ms, p95 {figures['server_p95']:.1f} ms; "
          f"wall p50 {figures['wall_p50']:.1f} ms, p95 {figures['wall_p95']:.1f} ms", flush=True)
    return tally, figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", default=os.environ.get("GOL_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--small", required=True, help="a national data set of 1,000 cases with the same zones")
    parser.add_argument("--zones-dir", type=Path, default=ROOT / "var" / "national" / "zones")
    parser.add_argument("--small-zones-dir", type=Path, help="the small data set's zone files (default: --zones-dir)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=10, help="warm rounds per operator (18 requests each)")
    parser.add_argument("--completers", type=int, default=2, help="background clients completing tasks")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"Inbox benchmark: gunicorn {args.workers} workers x {args.threads} threads (gthread), a new connection per "
          f"request, 8 operators of four roles and eight zones, {args.completers} clients completing tasks (as "
          f"{COMPLETER}); {os.cpu_count()} CPUs", flush=True)
    small, small_figures = run(args.small, args.small_zones_dir or args.zones_dir, args, "small")
    large, large_figures = run(args.large, args.zones_dir, args, "large")
    errors = small.errors + large.errors
    ratio = large_figures["server_p95"] / small_figures["server_p95"]
    print(json.dumps({"small": small_figures, "large": large_figures}))
    print(f"server p95 at the large data set {large_figures['server_p95']:.1f} ms (target <= {TARGET_MS:.0f}: "
          f"{'met' if large_figures['server_p95'] <= TARGET_MS else 'MISSED'}); p95(large)/p95(small) {ratio:.2f} "
          f"(target <= {TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'MISSED'}); wall p95 "
          f"{large_figures['wall_p95']:.1f} ms / {small_figures['wall_p95']:.1f} ms")
    if errors:
        print(f"{len(errors)} errors, e.g.: " + "; ".join(errors[:5]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

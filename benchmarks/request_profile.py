"""Where one web or API request spends its time: a statistical profile and the SQL round trips.

Builds the app as the WSGI entry does (same settings, metrics on) against the database given,
logs the operator in (web pages) or issues them a token (API paths), makes the request
`--warm` times untimed (caches, connection pool), then `--repeat` times measured: prints the
wall time of each, the SQL statements per request with their total time, and a pyinstrument
profile of the measured requests (`--html FILE` writes the interactive one).

    .venv/bin/python benchmarks/request_profile.py --postgres URL --user cpi.pistoiese --path /casi
        [--zones-dir var/national/zones] [--repeat 20] [--warm 3] [--html var/profile.html]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pyinstrument import Profiler
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.national_dataset import ADMIN, DEFAULT_URL, PASSWORD, settings  # noqa: E402
from gol_workflow.bootstrap import bootstrap  # noqa: E402
from gol_workflow.services.access import tokens  # noqa: E402
from gol_workflow.web import create_app  # noqa: E402


def measured_requests(client: Any, path: str, headers: dict[str, str], repeat: int, times: list[float]) -> bool:
    """Make the request `repeat` times, appending each wall time in ms; True if any failed."""
    failed = False
    for _ in range(repeat):
        started = time.perf_counter()
        answer = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            print(f"GET {path}: {answer.status_code}")
            failed = True
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("GOL_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--zones-dir", type=Path, default=ROOT / "var" / "national" / "zones")
    parser.add_argument("--user", required=True)
    parser.add_argument("--path", action="append", required=True, help="may be given more than once")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--warm", type=int, default=3)
    parser.add_argument("--html", type=Path)
    parser.add_argument("--sql", action="store_true", help="print every distinct statement of one request")
    parser.add_argument("--explain", type=float, metavar="MS",
                        help="EXPLAIN ANALYZE the statements slower than MS on average (with their last parameters)")
    parser.add_argument("--no-profile", action="store_true", help="time only (to run under py-spy, which sees CPU only)")
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="gol-profile-"))
    rt = bootstrap(settings(args.postgres, args.zones_dir, var_dir), metrics=True)
    app = create_app(rt)
    client = app.test_client()
    headers: dict[str, str] = {}
    if any(p.startswith("/api/") for p in args.path):
        headers["Authorization"] = "Bearer " + tokens.issue_token(rt, args.user, ADMIN, "request profile").secret
    if any(not p.startswith("/api/") for p in args.path):
        page = client.get("/accesso").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        answer = client.post("/accesso", data={"csrf_token": csrf, "username": args.user, "password": PASSWORD})
        if answer.status_code != 302:
            raise SystemExit(f"{args.user} could not log in: {answer.status_code}")
    statements: list[tuple[str, float]] = []
    last_params: dict[str, Any] = {}
    began: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        began[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        last_params[statement] = parameters
        statements.append((statement, (time.perf_counter() - began.pop(id(cursor), time.perf_counter())) * 1000))

    event.listen(rt.db, "before_cursor_execute", before)
    event.listen(rt.db, "after_cursor_execute", after)
    failed = False
    for path in args.path:
        for _ in range(args.warm):
            client.get(path, headers=headers)
        statements.clear()
        profiler = Profiler(interval=0.0005)
        times = []
        cpu = time.process_time()
        with profiler if not args.no_profile else contextlib.nullcontext():
            failed = measured_requests(client, path, headers, args.repeat, times) or failed
        cpu_ms = (time.process_time() - cpu) * 1000 / args.repeat
        sql_ms = sum(ms for _, ms in statements) / args.repeat
        print(f"GET {path} as {args.user}: {args.repeat} requests, p50 {statistics.median(times):.1f} ms, "
              f"max {max(times):.1f} ms, CPU {cpu_ms:.1f} ms; {len(statements) / args.repeat:.1f} SQL statements per request, "
              f"{sql_ms:.1f} ms in SQL; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if args.sql:
            spent: Counter[str] = Counter()
            for statement, ms in statements:
                spent[" ".join(statement.split())[:150]] += ms
            counts = Counter(" ".join(s.split())[:150] for s, _ in statements)
            for text, n in counts.most_common():
                print(f"  {n / args.repeat:4.1f} x {spent[text] / n:6.1f} ms  {text}")
        if args.explain is not None:
            totals: Counter[str] = Counter()
            for statement, ms in statements:
                totals[statement] += ms
            for statement, ms in totals.items():
                if ms / args.repeat >= args.explain:
                    with rt.db.connect() as conn:
                        raw = conn.connection.driver_connection.cursor()
                        raw.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, last_params[statement])
                        print(f"  -- {ms / args.repeat:.1f} ms per request: {' '.join(statement.split())[:300]}")
                        print("\n".join("     " + r[0] for r in raw.fetchall()))
        if args.no_profile:
            continue
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        if args.html:
            args.html.write_text(profiler.output_html())
    rt.db.dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

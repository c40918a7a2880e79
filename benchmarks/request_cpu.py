"""Where a request's time goes: a profile of the completion, the inbox page and the case list page, in-process.

Against a data set (national_dataset.py), as one CPI operator of a zone: Percorso 4 cases are
opened for the operator first (not measured), then the Flask app (no network, one request at a
time, `GOL_WORKFLOW_CACHE_SIZE=0`: every completion loads its case's state, as in the mixed
benchmark where no worker has it) serves `POST /api/v1/tasks/{id}/complete` of each case's
first step, `GET /attivita` and `GET /casi`, under cProfile measuring CPU time. Printed per
request kind: wall and CPU time per request (the difference is waiting, for the database server
or for a CPU), the statements sent to the server, and the CPU time grouped by where the code lives (SpiffWorkflow, the service's engine,
persistence, web, templates, the database driver, SQLAlchemy, the rest). cProfile adds its own
overhead (Python-heavy parts look heavier): read the shares, not the absolute figures.

Writes: the cases opened and completed, and an API token, go into the data set.

    .venv/bin/python benchmarks/request_cpu.py --postgres URL [--zones-dir var/national/zones] [--requests 100]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.mixed_load import PROFILE, Client, describe, seed_cases  # noqa: E402
from benchmarks.national_dataset import ADMIN, DEFAULT_URL, PASSWORD, settings  # noqa: E402
from gol_workflow.bootstrap import bootstrap  # noqa: E402
from gol_workflow.services.access import tokens  # noqa: E402
from gol_workflow.web import create_app  # noqa: E402

OPERATOR = "cpi.zona-012"
GROUPS = (("SpiffWorkflow", "/SpiffWorkflow/"), ("service: engine", "/gol_workflow/engine/"),
          ("service: persistence", "/gol_workflow/persistence/"), ("service: services", "/gol_workflow/services/"),
          ("service: web and API", "/gol_workflow/web/"), ("service: web and API", "/gol_workflow/api/"),
          ("service: forms", "/gol_workflow/forms/"), ("Jinja2 templates", "/jinja2/"), ("templates", "<template>"),
          ("SQLAlchemy", "/sqlalchemy/"), ("Flask / Werkzeug", "/werkzeug/"),
          ("Flask / Werkzeug", "/flask"), ("json", "/json/"))


def group_of(filename: str) -> str:
    """Where a profiled function lives."""
    for label, marker in GROUPS:
        if marker in filename:
            return label
    if filename.startswith("~") or filename == "{built-in}":
        return "built-ins (C)"
    return "other Python"


WAITING = "psycopg (the database driver)"


def summarise(profile: cProfile.Profile, requests: int) -> tuple[list[tuple[str, float]], float]:
    """Own time per group in ms per request, largest first; and statements sent per request."""
    stats = pstats.Stats(profile)
    totals: dict[str, float] = {}
    trips = 0
    for (filename, _, name), (_, calls, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        label = group_of(filename)
        if "/psycopg/" in filename:
            label = WAITING
            if filename.endswith("/psycopg/cursor.py") and name in ("execute", "executemany"):
                trips += calls
        totals[label] = totals.get(label, 0.0) + own
    return sorted(((k, 1000 * v / requests) for k, v in totals.items()), key=lambda kv: -kv[1]), trips / requests


def main() -> int:
    """Open cases, then profile completions, inbox pages and case list pages; print per kind."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=os.environ.get("GOL_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--zones-dir", type=Path, default=ROOT / "var" / "national" / "zones")
    parser.add_argument("--requests", type=int, default=100, help="requests of each kind")
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="gol-profile-"))
    client = Client(OPERATOR, "cpi")
    facts = describe(args.postgres, [client], 7)
    base = settings(args.postgres, args.zones_dir, var_dir)
    rt = bootstrap(replace(base, workflow_cache_size=0))
    token = tokens.issue_token(rt, OPERATOR, ADMIN, "request profile").secret
    seed_cases(rt, [client], args.requests)
    print(f"conditions: {facts['cases']:,} cases, schema {facts['revision']}; the Flask app in-process (no network), "
          f"one request at a time as {OPERATOR}, workflow cache off; {os.cpu_count()} CPUs, load average before "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    app = create_app(rt, {"TESTING": True, "GOL_BATCH_THREAD": False, "WTF_CSRF_ENABLED": False})
    web = app.test_client()
    web.post("/accesso", data={"username": OPERATOR, "password": PASSWORD})
    api = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = json.dumps({"data": PROFILE})
    tasks = list(client.tasks)
    kinds = {
        "completion (API)": lambda i: web.post(f"/api/v1/tasks/{tasks[i]}/complete", data=body, headers=api),
        "inbox page (/attivita)": lambda i: web.get("/attivita" if i % 2 else "/attivita?scadute=1"),
        "case list page (/casi)": lambda i: web.get("/casi" if i % 2 else "/casi?stato=aperto"),
    }
    for kind, call in kinds.items():
        if kind != "completion (API)":
            call(0)  # templates compiled, connections opened
        # CPU time, not wall time: on a shared machine wall time would charge a function with the
        # moments the process waited for a CPU.
        profile = cProfile.Profile(time.process_time)
        wall, cpu = time.perf_counter(), time.process_time()
        profile.enable()
        for i in range(args.requests):
            response = call(i)
            if response.status_code != 200:
                raise SystemExit(f"{kind}: {response.status_code} {response.data[:200]!r}")
        profile.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"\n{kind}: {args.requests} requests, {1000 * wall / args.requests:.1f} ms wall and "
              f"{1000 * cpu / args.requests:.1f} ms CPU of this process per request (under the profiler); the rest "
              f"({1000 * (wall - cpu) / args.requests:.1f} ms) is waiting: for the database server, or for a CPU")
        groups, trips = summarise(profile, args.requests)
        print(f"  statements sent per request (psycopg cursor executions, BEGIN/COMMIT included): {trips:.1f}")
        print("  CPU per request by where the code lives:")
        for label, ms in groups[:10]:
            print(f"  {label:<52} {ms:7.2f} ms")
    rt.db.dispose()
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

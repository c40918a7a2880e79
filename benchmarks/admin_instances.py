"""The admin instance list at 100,000 instances against 1,000, on PostgreSQL.

The database is filled in bulk with COPY (10 % active instances, 85 % completed, 5 %
terminated, started over three years in two zones, some in error), then the list is asked
for the way administrators use it: the first page with the counts per status, deep pages
(the deepest offset the service allows, 10,000 rows in; the middle of the whole list and its
very last page, both by cursor, as the list's own links reach them), filters on status, zone,
beneficiary name and codice fiscale, a month of start dates, one process version, errors only.
With `--dataset URL` the same lists are measured on an existing data set (national_dataset.py,
1,000,000 cases) without filling anything: nothing is written there. Each figure is the time of the
whole use case (`services.instance_queries.list_instances`: counts, page, version join) and
of the rendered page (`GET /admin/istanze` through the Flask app, without the network).
Times are noisy on a shared machine: compare the ratios in the same run.

    .venv/bin/python benchmarks/admin_instances.py [--postgres URL] [--repeat 40]
    .venv/bin/python benchmarks/admin_instances.py --dataset URL [--zones-dir var/national/zones] [--repeat 20]
"""

from __future__ import annotations

import argparse
import io
import os
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scratch_db import ensure_database, reset  # noqa: E402
from gol_workflow.bootstrap import bootstrap  # noqa: E402
from gol_workflow.config import Settings  # noqa: E402
from gol_workflow.domain.model import Actor  # noqa: E402
from gol_workflow.forms.codice_fiscale import check_character  # noqa: E402
from gol_workflow.services.administration import deployment  # noqa: E402
from gol_workflow.services.access import users  # noqa: E402
from gol_workflow.services.administration.instance_queries import (  # noqa: E402
    InstanceFilters, PageRequest, encode_cursor, list_instances)
from gol_workflow.services.workflow.runtime import Runtime  # noqa: E402
from gol_workflow.web import create_app  # noqa: E402

ADMIN = Actor(username="bench", role="admin")
PASSWORD = "benchmark-password"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/gol_bench_admin"
ZONES = ("pistoiese", "valdinievole")
NAMES = ("Lucia", "Marco", "Anna", "Paolo", "Sara", "Giulia", "Luca", "Elena", "Davide", "Chiara")
SURNAMES = ("Bianchi", "Rossi", "Verdi", "Neri", "Gialli", "Conti", "Bardi", "Lenzi", "Fedi", "Nesti")
END = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
STATE = json.dumps({"data": {"note": "x" * 2000}, "tasks": {}})
COLUMNS = ("id", "process_version_id", "process_id", "status", "row_version", "state", "next_due_at", "zone",
           "beneficiary_name", "codice_fiscale", "current_step", "error", "retry_count", "started_by",
           "started_at", "updated_at", "ended_at")


def runtime(url: str, var_dir: Path) -> Runtime:
    """The service on the benchmark database with the shipped processes deployed."""
    settings = Settings(database_url=url, processes_dir=ROOT / "processes", forms_dir=ROOT / "forms",
                        zones_dir=ROOT / "zones", var_dir=var_dir, secret_key="benchmark", embedded_scheduler=False)
    rt = bootstrap(settings)
    deployment.deploy(rt, deployment.read_sources(ROOT / "processes", ROOT / "forms"), ADMIN)
    return rt


def _status(rng: random.Random) -> str:
    roll = rng.random()
    for status, share in (("running", 0.05), ("waiting", 0.04), ("error", 0.005), ("suspended", 0.005),
                          ("terminated", 0.05)):
        if roll < share:
            return status
        roll -= share
    return "completed"


def _row(rng: random.Random, n: int, version_id: int) -> tuple[object, ...]:
    status = _status(rng)
    started = END - timedelta(seconds=rng.randrange(3 * 365 * 86400))
    prefix = f"{SURNAMES[n % 10][:3].upper()}{NAMES[n // 10 % 10][:3].upper()}{80 + n % 20}A01G{n % 1000:03d}"
    error = json.dumps({"element_id": "carica_scheda_idol", "element_name": "Caricare la scheda di esito su IDOL",
                        "message": "IDOL non raggiungibile", "retryable": True}) if status == "error" else None
    ended = started + timedelta(days=365) if status in ("completed", "terminated") else None
    due = started + timedelta(days=365) if status == "waiting" else None
    return (str(uuid.UUID(int=rng.getrandbits(128))), version_id, "percorso4", status, 3, STATE, due,
            ZONES[n % 2], f"{NAMES[n // 10 % 10]} {SURNAMES[n % 10]}", prefix + check_character(prefix),
            "Profilazione e assessment" if status == "running" else None, error, 0, "cpi.pistoiese", started,
            ended or started, ended)


def fill(url: str, count: int, version_id: int, seed: int) -> None:
    """Add `count` instances with COPY, then vacuum and analyse as autovacuum would."""
    rng = random.Random(seed)
    with psycopg.connect(url) as conn:
        with conn.cursor().copy(f"COPY instances ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for n in range(count):
                copy.write_row(_row(rng, n, version_id))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE instances")


def timed(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    call()  # warm caches
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def scenarios(rt: Runtime, code: str) -> dict[str, tuple[InstanceFilters, PageRequest, str | None]]:
    """The lists measured: filters, page and the same as URL parameters."""
    with psycopg.connect(rt.settings.database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        total = int(conn.execute("SELECT count(*) FROM instances").fetchone()[0])  # type: ignore[index]
        started, instance_id = conn.execute("SELECT started_at, id FROM instances ORDER BY started_at DESC, id DESC "
                                            "OFFSET %s LIMIT 1", (total // 2,)).fetchone()  # type: ignore[misc]
    middle = encode_cursor(started, str(instance_id))
    # Before a position older than every row: the oldest page, the list's very end.
    last = encode_cursor(datetime(1970, 1, 1, tzinfo=UTC), "00000000-0000-0000-0000-000000000000")
    month = (date(2025, 3, 1), date(2025, 3, 31))
    return {
        "first page + counts": (InstanceFilters(), PageRequest(), ""),
        "offset 10,000 (API only)": (InstanceFilters(), PageRequest(offset=10_000), None),
        f"middle ({total // 2:,}) by cursor": (InstanceFilters(), PageRequest(after=middle), f"dopo={middle}"),
        "last page by cursor": (InstanceFilters(), PageRequest(before=last), f"prima={last}"),
        "errors only": (InstanceFilters(has_error=True), PageRequest(), "errore=1"),
        "zone + active": (InstanceFilters(zone="pistoiese", statuses=("running", "waiting")), PageRequest(),
                          "zona=pistoiese&stato=running&stato=waiting"),
        "name contains": (InstanceFilters(beneficiary="giulia bianchi"), PageRequest(), "beneficiario=giulia+bianchi"),
        "codice fiscale": (InstanceFilters(beneficiary=str(code)), PageRequest(), f"beneficiario={code}"),
        "one month": (InstanceFilters(started_from=month[0], started_to=month[1]), PageRequest(),
                      f"dal={month[0]}&al={month[1]}"),
        "process version": (InstanceFilters(process_id="percorso4", version=1), PageRequest(),
                            "processo=percorso4&versione=1"),
    }


def measure(rt: Runtime, repeat: int, code: str, admin: str = "bench"
            ) -> dict[str, tuple[float, float, float, float]]:
    """(service p50, service p95, page p50, page p95) per scenario."""
    app = create_app(rt, {"TESTING": True, "GOL_BATCH_THREAD": False, "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    client.post("/accesso", data={"username": admin, "password": PASSWORD})
    results = {}
    for name, (filters, page, query) in scenarios(rt, code).items():
        service = timed(lambda f=filters, p=page: list_instances(rt, ADMIN, f, p), repeat)
        # The web page pages by cursor only: an offset has no page to measure.
        page_time = (timed(lambda q=query: _ok(client.get("/admin/istanze?" + q)), repeat) if query is not None
                     else (float("nan"), float("nan")))
        results[name] = (*service, *page_time)
    return results


def _ok(response: object) -> None:
    if getattr(response, "status_code", 0) != 200:
        raise RuntimeError(f"page answered {getattr(response, 'status_code', '?')}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=DEFAULT_URL)
    parser.add_argument("--dataset", help="an existing data set to measure as it is (read only), instead of filling")
    parser.add_argument("--zones-dir", type=Path, default=ROOT / "var" / "national" / "zones")
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    print(f"conditions: one process, one request at a time, the Flask app without the network; {os.cpu_count()} CPUs, "
          f"load average before {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    if args.dataset:
        return on_dataset(args.dataset, args.zones_dir, args.repeat)
    ensure_database(args.postgres)
    reset(args.postgres)
    with tempfile.TemporaryDirectory() as var_dir:
        rt = runtime(args.postgres, Path(var_dir))
        users.add_user(rt, "bench", "admin", ADMIN, password=PASSWORD)
        with rt.uow(write=False) as uow:
            version_id = int(uow.versions.latest_id("percorso4") or 0)
        code = str(_row(random.Random(7), 4242, 1)[9])
        fill(args.postgres, 1_000, version_id, seed=1)
        small = measure(rt, args.repeat, code)
        started = time.perf_counter()
        fill(args.postgres, 99_000, version_id, seed=2)
        print(f"filled 99,000 more instances in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        large = measure(rt, args.repeat, code)
        rt.db.dispose()
    out = io.StringIO()
    out.write(f"{'scenario':<30}{'service p50/p95 ms (1k)':>26}{'(100k)':>16}{'page p95 ms (1k)':>19}"
              f"{'(100k)':>10}{'p95 ratio':>11}\n")
    for name in small:
        s, b = small[name], large[name]
        out.write(f"{name:<30}{s[0]:>14.1f} /{s[1]:>6.1f}{b[0]:>9.1f} /{b[1]:>6.1f}{s[3]:>19.1f}{b[3]:>10.1f}"
                  f"{b[3] / s[3]:>11.2f}\n")
    print(out.getvalue())
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def on_dataset(url: str, zones_dir: Path, repeat: int) -> int:
    """Measure the lists on a national data set as it is, as its administrator."""
    from benchmarks.national_dataset import ADMIN as DATASET_ADMIN, settings

    with tempfile.TemporaryDirectory() as var_dir:
        rt = bootstrap(settings(url, zones_dir, Path(var_dir)))
        with psycopg.connect(url) as conn:
            code = str(conn.execute("SELECT codice_fiscale FROM cases TABLESAMPLE SYSTEM (1) LIMIT 1"
                                    ).fetchone()[0])  # type: ignore[index]
            total = int(conn.execute("SELECT count(*) FROM instances").fetchone()[0])  # type: ignore[index]
        results = measure(rt, repeat, code, DATASET_ADMIN.username)
        rt.db.dispose()
    print(f"{total:,} instances (an existing data set, read only); {repeat} repeats each")
    print(f"{'scenario':<30}{'service p50 / p95 ms':>24}{'page p50 / p95 ms':>22}")
    for name, (s50, s95, p50, p95) in results.items():
        print(f"{name:<30}{s50:>14.1f} /{s95:>7.1f}{p50:>13.1f} /{p95:>7.1f}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Every indicator for one zone and one year, and the whole «Indicatori» dashboard, on the database given.

Fills the database with `--cases` synthetic Percorso 4 case records (instances, case records,
placements, equipe meetings and the operators' register) spread over three years in both zones,
unless `--no-fill` (an already filled database), then times, `--repeat` times each:
- each named query of the catalogue for one zone and one year (`IndicatorQueries` through
  `catalogue.QUERIES`), and the waiting times per zone and month;
- the whole report (`services.indicators.report.compute`: every indicator, waiting times, flow);
- the dashboard as a person gets it: `GET /api/v1/indicators` and `GET /indicatori` through the
  Flask app (without the network), for one zone and for the whole service.
Prints p50 and p95 in milliseconds; exits 1 on any error. Times are noisy on a shared machine.

    .venv/bin/python benchmarks/indicators.py [--database URL] [--cases 2000] [--repeat 20] [--no-fill]

Without `--database` a scratch SQLite file in a temporary folder is used; a PostgreSQL URL names
a scratch database that is emptied first (`benchmarks/scratch_db.py`) unless `--no-fill`.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gol_workflow.bootstrap import bootstrap  # noqa: E402
from gol_workflow.config import Settings  # noqa: E402
from gol_workflow.domain.model import Actor  # noqa: E402
from gol_workflow.persistence import schema  # noqa: E402
from gol_workflow.persistence.database import create_db_engine  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from gol_workflow.persistence.tables import (  # noqa: E402
    cases,
    instances,
    meeting_agenda,
    meetings,
    operator_meetings,
    placements,
    process_versions,
)
from gol_workflow.services.access import tokens, users  # noqa: E402
from gol_workflow.services.administration import deployment  # noqa: E402
from gol_workflow.services.indicators import catalogue  # noqa: E402
from gol_workflow.services.indicators import report as indicator_report  # noqa: E402
from gol_workflow.services.workflow.runtime import Runtime  # noqa: E402
from gol_workflow.web import create_app  # noqa: E402

ADMIN = Actor(username="bench", role="admin")
PASSWORD = "benchmark-password"
ZONES = ("pistoiese", "valdinievole")
ROME = ZoneInfo("Europe/Rome")
END = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
YEAR = (date(2025, 1, 1), date(2025, 12, 31))
BATCH = 5000
KINDS = ("tirocinio", "assunzione", "inclusione_sociale", "laboratorio_protetto")
OUTCOMES = ("occupato", "in_formazione", "inclusione_sociale", "ritirato", "altro")


def runtime(url: str, var_dir: Path, zones_dir: Path = ROOT / "zones", deploy: bool = True) -> Runtime:
    """The service on the benchmark database (with the shipped processes deployed unless `deploy` is False)."""
    settings = Settings(database_url=url, processes_dir=ROOT / "processes", forms_dir=ROOT / "forms",
                        zones_dir=zones_dir, var_dir=var_dir, secret_key="benchmark", embedded_scheduler=False)
    rt = bootstrap(settings)
    if deploy:
        deployment.deploy(rt, deployment.read_sources(ROOT / "processes", ROOT / "forms"), ADMIN)
    return rt


def _case(rng: random.Random, version: int) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    case_id = str(uuid.uuid4())
    zone = rng.choice(ZONES)
    opened = END - timedelta(seconds=rng.randrange(3 * 365 * 86400))
    profiled = opened + timedelta(days=rng.randrange(0, 6), hours=1)
    equipe = profiled + timedelta(days=rng.randrange(5, 20))
    decision = rng.choices(("presa_in_carico", "rinvio", "non_attivabile", None), (80, 5, 10, 5))[0]
    taken = decision == "presa_in_carico"
    first = equipe + timedelta(days=rng.randrange(2, 20)) if taken else None
    start = first.astimezone(ROME).date() if first else None
    ended = start is not None and start + timedelta(days=365) < END.date()
    status = "completed" if ended or decision == "non_attivabile" else "waiting"
    manager = f"cm.{zone}.{rng.randrange(6)}" if taken else None
    header = {"id": case_id, "process_version_id": version, "process_id": "percorso4", "status": status,
              "row_version": 1, "state": "{}", "zone": zone, "started_by": "bench", "started_at": opened,
              "updated_at": opened, "retry_count": 0, "due_attempts": 0, "case_manager": manager}
    record = {"id": case_id, "process_id": "percorso4", "status": status, "opened_at": opened, "updated_at": opened,
              "zone": zone, "percorso": 4, "complex_needs": True, "profiled_at": profiled,
              "equipe_at": equipe if decision else None, "decision": decision, "first_appointment_at": first,
              "case_manager": manager, "path_start_date": start,
              "path_end_at": datetime(start.year + 1, start.month, min(start.day, 28), tzinfo=ROME) if start else None,
              "monitorings": rng.randrange(4), "substantial_changes": int(rng.random() < 0.1),
              "poverty_condition": rng.choice(("adi", "rischio_poverta", "nessuna")),
              "social_inclusion_path": taken and rng.random() < 0.7 or None,
              "work_path": taken and rng.random() < 0.6 or None,
              "joint_interview": bool(start) and rng.random() < 0.3 or None,
              "final_monitoring_date": start + timedelta(days=365) if ended else None,
              "outcome": rng.choice(OUTCOMES) if ended else None}
    found = []
    if start is not None:
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            begin = start + timedelta(days=rng.randrange(10, 300))
            found.append({"case_id": case_id, "zone": zone, "kind": rng.choice(KINDS), "sector": "servizi",
                          "start_date": begin, "end_date": begin + timedelta(days=90), "recorded_by": "bench",
                          "recorded_at": opened})
    return header, record, found


def fill(rt: Runtime, n: int, seed: int = 7) -> None:
    """Write `n` case records (and their instance rows, placements, meetings) in batches."""
    rng = random.Random(seed)
    with rt.uow(write=False) as uow:
        version = int(uow.conn.execute(process_versions.select().with_only_columns(process_versions.c.id).where(
            process_versions.c.process_id == "percorso4")).scalars().first())
    meeting_cases: dict[str, list[str]] = {}
    meeting_rows: dict[str, dict[str, Any]] = {}
    done = 0
    while done < n:
        size = min(BATCH, n - done)
        batch = [_case(rng, version) for _ in range(size)]
        with rt.uow() as uow:
            uow.conn.execute(instances.insert(), [h for h, _, _ in batch])
            uow.conn.execute(cases.insert(), [r for _, r, _ in batch])
            rows = [p for _, _, found in batch for p in found]
            if rows:
                uow.conn.execute(placements.insert(), rows)
            uow.commit()
        for _, record, _ in batch:
            if record["equipe_at"] is not None:
                meeting_id = f"{record['zone']}-{record['equipe_at'].astimezone(ROME):%Y%m%d}"
                meeting_rows.setdefault(meeting_id, {
                    "id": meeting_id, "zone": record["zone"], "scheduled_at": record["equipe_at"],
                    "cutoff_at": record["equipe_at"] - timedelta(days=5), "status": "convened",
                    "due_at": record["equipe_at"], "attempts": 1, "created_at": record["equipe_at"]})
                meeting_cases.setdefault(meeting_id, []).append(record["id"])
        done += size
    with rt.uow() as uow:
        uow.conn.execute(meetings.insert(), list(meeting_rows.values()))
        agenda = [{"meeting_id": m, "case_id": c, "reason": "prima_valutazione", "item": {}, "added_at": END}
                  for m, ids in meeting_cases.items() for c in ids]
        for start in range(0, len(agenda), BATCH):
            uow.conn.execute(meeting_agenda.insert(), agenda[start:start + BATCH])
        day = date(2023, 6, 1)
        register = []
        while day < END.date():
            register.extend({"zone": z, "held_on": day, "kind": "coordinamento", "topic": "Coordinamento",
                             "participants": 8, "recorded_by": "bench", "recorded_at": END} for z in ZONES)
            day += timedelta(days=14)
        uow.conn.execute(operator_meetings.insert(), register)
        uow.commit()


def timed(label: str, repeat: int, action: Callable[[], Any]) -> tuple[str, float, float]:
    """p50 and p95 of `repeat` runs, in milliseconds."""
    action()  # warm the caches once
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return label, statistics.median(times), p95


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", help="SQLAlchemy URL (default: a scratch SQLite file)")
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-fill", action="store_true", help="the database is already filled (nothing deployed)")
    parser.add_argument("--zones-dir", type=Path, default=ROOT / "zones",
                        help="zone files (the national data set's: var/national/zones)")
    parser.add_argument("--zone", default="pistoiese", help="the zone measured alone")
    parser.add_argument("--year", type=int, default=YEAR[0].year)
    parser.add_argument("--admin", default="bench", help="an administrator of the database (the national data "
                        "set's is bench.admin), password benchmark-password; created when filling")
    args = parser.parse_args()
    year = (date(args.year, 1, 1), date(args.year, 12, 31))
    admin = Actor(username=args.admin, role="admin")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'indicators.sqlite3'}"
        if not args.no_fill:
            if url.startswith("postgresql"):
                from benchmarks.scratch_db import ensure_database, reset
                ensure_database(url)
                reset(url)
            else:
                engine = create_db_engine(url, pool_size=0)
                schema.upgrade(engine)
                engine.dispose()
        rt = runtime(url, Path(tmp) / "var", args.zones_dir, deploy=not args.no_fill)
        if not args.no_fill:
            began = time.perf_counter()
            fill(rt, args.cases)
            print(f"filled {args.cases} cases in {time.perf_counter() - began:.1f} s on {rt.db.dialect.name}")
            users.add_user(rt, args.admin, "admin", ADMIN, [], [], PASSWORD, "Benchmark")
        with rt.uow(write=False) as uow:
            counted = uow.conn.execute(select(func.count()).select_from(cases)).scalar_one()
            in_zone = uow.conn.execute(select(func.count()).select_from(cases).where(
                cases.c.zone == args.zone, cases.c.opened_at >= datetime.combine(year[0], datetime.min.time(), UTC),
                cases.c.opened_at < datetime.combine(year[1], datetime.min.time(), UTC))).scalar_one()
        print(f"Indicators on {rt.db.dialect.name}: {counted:,} cases in {len(rt.zones)} zones; zone {args.zone} "
              f"opened {in_zone:,} in {args.year}; {args.repeat} runs each after one warm-up; "
              f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        tz = ZoneInfo(rt.settings.timezone)
        p = indicator_report.bounds(*year, tz)
        results = []
        for ind in catalogue.load(ROOT / "processes"):
            def one(query: str = ind.query) -> Any:
                with rt.uow(write=False) as uow:
                    return catalogue.QUERIES[query](uow.indicators, [args.zone], p)
            results.append(timed(f"indicator {ind.id}", args.repeat, one))

        def waits() -> Any:
            with rt.uow(write=False) as uow:
                return uow.indicators.waiting_times([args.zone], p, tz)
        results.append(timed("waiting times per zone and month", args.repeat, waits))
        results.append(timed("report, one zone, one year", args.repeat,
                             lambda: indicator_report.compute(rt, admin, args.zone, *year)))
        results.append(timed("report, whole service, one year", args.repeat,
                             lambda: indicator_report.compute(rt, admin, None, *year)))
        app = create_app(rt, {"TESTING": True, "WTF_CSRF_ENABLED": False})
        secret = tokens.issue_token(rt, args.admin, ADMIN, "indicators benchmark").secret
        api = app.test_client()

        def api_call(query: str) -> None:
            response = api.get(f"/api/v1/indicators?{query}", headers={"Authorization": f"Bearer {secret}"})
            if response.status_code != 200:
                raise SystemExit(f"GET /api/v1/indicators?{query}: {response.status_code}")
        results.append(timed("GET /api/v1/indicators, one zone", args.repeat,
                             lambda: api_call(f"zone={args.zone}&from={year[0]}&to={year[1]}")))
        results.append(timed("GET /api/v1/indicators, whole service", args.repeat,
                             lambda: api_call(f"from={year[0]}&to={year[1]}")))
        page = app.test_client()
        if page.post("/accesso", data={"username": args.admin, "password": PASSWORD}).status_code != 302:
            raise SystemExit("could not log in to the web pages")

        def dashboard(zone: str) -> None:
            response = page.get(f"/indicatori?zona={zone}&dal={year[0]}&al={year[1]}")
            if response.status_code != 200:
                raise SystemExit(f"GET /indicatori: {response.status_code}")
        results.append(timed("GET /indicatori, one zone", args.repeat, lambda: dashboard(args.zone)))
        results.append(timed("GET /indicatori, whole service", args.repeat, lambda: dashboard("tutte")))
        rt.db.dispose()
    print(f"{'what':<58} {'p50 ms':>9} {'p95 ms':>9}")
    for label, p50, p95 in results:
        print(f"{label:<58} {p50:>9.1f} {p95:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What one Percorso 4 case costs in rows and bytes, month by month over its year, and after the archive.

One analysts' scenario (by default the full 12-month path) runs through the service's own use
cases on a scratch PostgreSQL database, with the simulated clock moving the case through its
year. After every step the case's rows are measured where PostgreSQL keeps them: for each table
the number of rows and their stored size (`pg_column_size` of the row: the heap tuple with its
compressed, out-of-line values, no index entries), and the serialised workflow state as JSON
and as stored (lz4). The last measure of each month of the case is printed. The equipe meetings
the case was discussed in are shared with the other cases of the session and are listed apart.

At the end the case is archived (`gol-workflow archive`'s use case, with a window of 0 months)
and measured again: what stays in the tables every step writes, and what moved to the archive.

    .venv/bin/python benchmarks/case_cost.py [--postgres URL] [--scenario 01_percorso_completo_12_mesi]

With `--sizes URL` it prints instead the size of every table of a database (a national data set,
before or after `gol-workflow archive`): rows, heap, TOAST and index megabytes, the hot tables
and the archive tables apart. It only reads.

    .venv/bin/python benchmarks/case_cost.py --sizes postgresql://postgres@127.0.0.1:5432/gol_national
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from benchmarks.scratch_db import ensure_database, reset  # noqa: E402
from gol_workflow.bootstrap import bootstrap  # noqa: E402
from gol_workflow.clock import ManualClock  # noqa: E402
from gol_workflow.config import Settings  # noqa: E402
from gol_workflow.persistence.archive import ENDED  # noqa: E402
from gol_workflow.services.administration import archive, deployment  # noqa: E402
from gol_workflow.services.scenarios import steps  # noqa: E402
from gol_workflow.services.scenarios.files import parse_scenario  # noqa: E402
from gol_workflow.services.scenarios.runner import run_scenario, workspace  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/gol_case_cost"
# The case's own rows: table -> the column naming the case.
CASE_TABLES = {
    "instances": "id", "cases": "id", "tasks": "instance_id", "audit_events": "instance_id",
    "attachments": "instance_id", "bookings": "case_id", "subscriptions": "instance_id",
    "meeting_agenda": "case_id", "placements": "case_id",
    "archived_states": "instance_id", "archived_audit_events": "instance_id",
}
HOT = [t for t in CASE_TABLES if not t.startswith("archived_")]


@dataclass
class Measure:
    """The case's rows and bytes after one step."""

    at: datetime
    step: str
    status: str
    rows: dict[str, int] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)
    state_json: int = 0
    state_stored: int = 0
    meetings: int = 0  # equipe meeting instances the case was discussed in
    meeting_bytes: int = 0

    def hot_bytes(self) -> int:
        """Bytes of the case's rows in the tables every step writes."""
        return sum(self.bytes.get(t, 0) for t in HOT)


def measure(conn: Any, case_id: str, at: datetime, step: str) -> Measure:
    """Rows and stored bytes of one case, per table, right now."""
    status = conn.execute(text("SELECT status FROM instances WHERE id = :id"), {"id": case_id}).scalar_one()
    found = Measure(at, step, status)
    for table, column in CASE_TABLES.items():
        count, size = conn.execute(text(
            f"SELECT count(*), coalesce(sum(pg_column_size(t.*)), 0) FROM {table} t WHERE t.{column} = :id"),
            {"id": case_id}).one()
        found.rows[table], found.bytes[table] = int(count), int(size)
    found.state_json, found.state_stored = conn.execute(text(
        "SELECT coalesce(octet_length(nullif(i.state, '')), octet_length(a.state), 0), "
        "coalesce(pg_column_size(nullif(i.state, '')), pg_column_size(a.state), 0) "
        "FROM instances i LEFT JOIN archived_states a ON a.instance_id = i.id WHERE i.id = :id"),
        {"id": case_id}).one()
    found.meetings, found.meeting_bytes = conn.execute(text(
        "SELECT count(*), coalesce(sum(pg_column_size(i.*)), 0) FROM instances i WHERE i.id IN "
        "(SELECT m.instance_id FROM meetings m JOIN meeting_agenda a ON a.meeting_id = m.id WHERE a.case_id = :id)"),
        {"id": case_id}).one()
    return found


def months_between(start: datetime, moment: datetime) -> int:
    """Whole calendar months from the case's start to a moment."""
    months = (moment.year - start.year) * 12 + moment.month - start.month
    return months - 1 if moment.day < start.day else months


def kb(n: int) -> str:
    """Bytes as kilobytes with one decimal."""
    return f"{n / 1024:.1f}"


SIZES = """
SELECT c.relname, c.reltuples::bigint, pg_relation_size(c.oid),
       coalesce(pg_total_relation_size(c.reltoastrelid), 0), pg_indexes_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY pg_total_relation_size(c.oid) DESC
"""


def sizes(url: str) -> int:
    """Print every table's rows and megabytes, the hot ones and the archive apart."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(SIZES).fetchall()
        archived = conn.execute("SELECT count(*) FROM archived_states").fetchone()[0] if any(
            r[0] == "archived_states" for r in rows) else 0
        total = conn.execute("SELECT count(*) FROM instances").fetchone()[0]
    mb = 1024 * 1024
    print(f"{url.rsplit('/', 1)[1]}: {total:,} instances, {archived:,} of them archived")
    print("| table | rows (estimate) | heap MB | TOAST MB | indexes MB | total MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, chosen in (("hot", [r for r in rows if not r[0].startswith("archived_")]),
                          ("archive", [r for r in rows if r[0].startswith("archived_")])):
        for name, count, heap, toast, index in chosen:
            if heap + toast + index >= mb // 10:
                print(f"| {name} | {max(count, 0):,} | {heap / mb:,.1f} | {toast / mb:,.1f} | {index / mb:,.1f} | "
                      f"{(heap + toast + index) / mb:,.1f} |")
        print(f"| **all {label} tables** | {sum(max(r[1], 0) for r in chosen):,} | {sum(r[2] for r in chosen) / mb:,.1f} | "
              f"{sum(r[3] for r in chosen) / mb:,.1f} | {sum(r[4] for r in chosen) / mb:,.1f} | "
              f"{sum(r[2] + r[3] + r[4] for r in chosen) / mb:,.1f} |")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=DEFAULT_URL, help="a scratch database (emptied and migrated)")
    parser.add_argument("--scenario", default="01_percorso_completo_12_mesi")
    parser.add_argument("--sizes", metavar="URL", help="print the table sizes of this database instead")
    args = parser.parse_args()
    if args.sizes:
        return sizes(args.sizes)
    ensure_database(args.postgres)
    scenario = parse_scenario(ROOT / "processes" / "scenarios" / f"{args.scenario}.yaml")
    measures: list[Measure] = []
    seen: dict[str, Any] = {}

    def on_postgres(settings: Settings, clock: Any) -> Any:
        reset(args.postgres)
        rt = bootstrap(settings.with_overrides(database_url=args.postgres), clock=clock)
        seen["rt"] = rt
        return rt

    plain = steps.CaseRun.run
    plain_step_to = steps.clock_service.step_to

    def run_and_measure(self: steps.CaseRun, step: Any) -> None:
        plain(self, step)
        if step.kind == "expect" or not self.case_id:
            return
        seen["case"] = self.case_id
        with self.rt.db.connect() as conn:
            measures.append(measure(conn, self.case_id, self.rt.now(), step.describe()))

    def month_by_month(rt: Any, target: datetime, actor: Any) -> Any:
        """Move the clock as asked, stopping (and measuring) at each month's anniversary of the start on the way."""
        if "case" in seen and measures:
            start = measures[0].at
            month = months_between(start, rt.now()) + 1
            while (boundary := start + relativedelta(months=month)) < target:
                plain_step_to(rt, boundary, actor)
                with rt.db.connect() as conn:
                    measures.append(measure(conn, seen["case"], rt.now(), f"clock to month {month}"))
                month += 1
        return plain_step_to(rt, target, actor)

    steps.CaseRun.run = run_and_measure  # type: ignore[method-assign]
    steps.clock_service.step_to = month_by_month
    try:
        with workspace(on_postgres, ROOT / "processes") as space:
            result = run_scenario(space, scenario, deployment.read_sources(space.processes, space.forms))
    finally:
        steps.CaseRun.run = plain  # type: ignore[method-assign]
        steps.clock_service.step_to = plain_step_to
    if not result.passed or not measures:
        print(f"scenario {scenario.name} failed: {result.failure}", file=sys.stderr)
        return 1

    case_id = seen["case"]
    start = measures[0].at
    last_of_month: dict[int, Measure] = {}
    for found in measures:
        last_of_month[months_between(start, found.at)] = found
    print(f"One case of scenario '{scenario.name}' ({len(measures)} steps measured) on PostgreSQL, "
          f"started {start.date()}; the last measure of each month of the case:")
    shown = ["instances", "audit_events", "cases", "tasks", "attachments", "bookings", "meeting_agenda", "subscriptions"]
    header = (f"{'month':>5} {'date':<10} {'status':<9} {'state JSON kB':>13} {'stored kB':>9} "
              + " ".join(f"{t[:12]:>15}" for t in shown) + f" {'hot rows':>8} {'hot kB':>7}")
    print(header)
    print(" " * 48 + " ".join(f"{'rows / kB':>15}" for _ in shown))
    for month in sorted(last_of_month):
        m = last_of_month[month]
        cells = " ".join(f"{m.rows[t]:>6} / {kb(m.bytes[t]):>6}" for t in shown)
        hot_rows = sum(m.rows[t] for t in HOT)
        print(f"{month:>5} {m.at.date()!s:<10} {m.status:<9} {kb(m.state_json):>13} {kb(m.state_stored):>9} "
              f"{cells} {hot_rows:>8} {kb(m.hot_bytes()):>7}")
    final = measures[-1]
    print(f"equipe meeting instances that discussed the case: {final.meetings} "
          f"({kb(final.meeting_bytes)} kB, shared with that session's other cases)")

    # Archive the closed case (window 0 months: everything already closed) and measure again.
    clock = ManualClock(final.at + timedelta(seconds=1))
    rt = bootstrap(Settings(database_url=args.postgres, processes_dir=ROOT / "processes",
                            forms_dir=ROOT / "forms", zones_dir=ROOT / "zones",
                            var_dir=Path(space.folder) / "archive-var", secret_key="case-cost"), clock=clock)
    try:
        if final.status not in ENDED:
            print(f"the case is {final.status} at the end of the scenario: not archived")
            return 0
        report = archive.archive_closed(rt, months=0)
        with rt.db.connect() as conn:
            after = measure(conn, case_id, final.at, "archived")
    finally:
        rt.db.dispose()
    cold = after.bytes["archived_states"] + after.bytes["archived_audit_events"]
    print(f"archived ({report.instances} instance(s) closed by then): hot tables {sum(after.rows[t] for t in HOT)} rows, "
          f"{kb(after.hot_bytes())} kB (was {kb(final.hot_bytes())} kB); archive tables "
          f"{after.rows['archived_states'] + after.rows['archived_audit_events']} rows, {kb(cold)} kB")
    print("hot rows left: " + ", ".join(f"{t} {after.rows[t]} ({kb(after.bytes[t])} kB)" for t in HOT if after.rows[t]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

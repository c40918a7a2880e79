"""The case list's SQL against the national data set: EXPLAIN ANALYZE of each query shape, by role.

Builds the statements with the service's own code (persistence/case_list.py) for one operator
of each role and prints, for every filter, sort and page of the benchmark, the execution time
of the page query and of the capped count, and with --plans the plans themselves.

    .venv/bin/python benchmarks/case_list_plans.py --postgres URL [--plans] [--only KIND]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.dialects import postgresql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.national_dataset import DEFAULT_URL  # noqa: E402
from gol_workflow.persistence.case_list import CaseFilter, CaseList, CaseScope  # noqa: E402
from gol_workflow.services.cases.case_list import COUNT_CAP, STATUS_FILTERS  # noqa: E402

SCOPES = {
    "cpi/sds (one zone)": (CaseScope(zones=("zona-017",)), "cpi.zona-017", ()),
    "ats (own cases)": (CaseScope(case_manager="cm.zona-023.2"), "cm.zona-023.2", ()),
    "specialist": (CaseScope(zones=("zona-075",), services=("salute_mentale",)), "spec.zona-075", ("salute_mentale",)),
    "admin (every zone)": (CaseScope(everything=True), "bench.admin", ()),
}


class Capture:
    """A stand-in connection: keeps the statements CaseList would run."""

    def __init__(self) -> None:
        self.statements: list[Any] = []

    def execute(self, stmt: Any) -> Any:
        self.statements.append(stmt)
        return _Empty()


class _Empty:
    def mappings(self) -> list[Any]:
        return []

    def scalar(self) -> int:
        return 0

    def first(self) -> None:
        return None


def sql(stmt: Any) -> str:
    """The statement as PostgreSQL receives it, with literal values."""
    return str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def shapes(conn: psycopg.Connection, zone: str, user: str, services: tuple[str, ...]) -> list[tuple[str, CaseFilter, str, bool, int]]:
    """(kind, filter, sort, descending, offset) of every list request kind of the benchmark."""
    now = datetime.now(UTC)
    row = conn.execute("SELECT beneficiary_name, codice_fiscale FROM cases WHERE zone = %s LIMIT 1", (zone,)).fetchone()
    surname = row[0].split(" ", 1)[1]
    base = {"user": user, "services": services, "now": now}
    return [
        ("first page", CaseFilter(**base), "updated", True, 0),
        ("name part", CaseFilter(text=surname[1:4].lower(), **base), "updated", True, 0),
        ("surname", CaseFilter(text=surname, **base), "updated", True, 0),
        ("codice fiscale", CaseFilter(text=row[1], **base), "updated", True, 0),
        ("zone", CaseFilter(zone=zone, **base), "updated", True, 0),
        ("mine", CaseFilter(mine=True, **base), "updated", True, 0),
        ("open", CaseFilter(statuses=STATUS_FILTERS["aperto"], **base), "updated", True, 0),
        ("closed, by name", CaseFilter(statuses=STATUS_FILTERS["chiuso"], **base), "name", False, 0),
        ("step", CaseFilter(step="Monitoraggio in itinere", **base), "updated", True, 0),
        ("overdue", CaseFilter(overdue=True, **base), "updated", True, 0),
        ("by end date", CaseFilter(**base), "end", True, 0),
        ("by opening, page 3", CaseFilter(**base), "opened", False, 50),
        ("page 100", CaseFilter(**base), "updated", True, 2475),
        ("page 400", CaseFilter(**base), "updated", True, 9975),
    ]


def explain(conn: psycopg.Connection, statement: str, plans: bool) -> float:
    """Run EXPLAIN ANALYZE; returns the execution time in ms (prints the plan when asked)."""
    rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement).fetchone()[0]
    plan = rows[0] if isinstance(rows, list) else json.loads(rows)[0]
    if plans:
        text = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement).fetchall()
        print("\n".join("      " + r[0] for r in text))
    return float(plan["Execution Time"]) + float(plan.get("Planning Time", 0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("GOL_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--plans", action="store_true")
    parser.add_argument("--only", default=None)
    args = parser.parse_args()
    print(f"conditions: one connection, EXPLAIN ANALYZE once per query; {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        print(f"{conn.execute('SELECT count(*) FROM cases').fetchone()[0]:,} cases; "
              f"times are planning + execution in ms (EXPLAIN ANALYZE), the page query then the count")
        for label, (scope, user, services) in SCOPES.items():
            print(f"{label}:")
            zone = scope.zones[0] if scope.zones else "zona-023"
            for kind, chosen, sort, descending, offset in shapes(conn, zone, user, services):
                if args.only and args.only not in kind:
                    continue
                capture = Capture()
                CaseList(capture).page(scope, chosen, sort, descending, 25, offset)  # type: ignore[arg-type]
                CaseList(capture).count(scope, chosen, COUNT_CAP)  # type: ignore[arg-type]
                page_sql, count_sql = sql(capture.statements[0]), sql(capture.statements[-1])
                if args.plans:
                    print(f"  {kind}:\n    {page_sql}")
                page_ms = explain(conn, page_sql, args.plans)
                count_ms = explain(conn, count_sql, args.plans)
                print(f"  {kind:>20}: page {page_ms:7.1f} ms, count {count_ms:7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

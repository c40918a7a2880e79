"""Admin instance search against the national data set: 8 administrators at once, p50/p95/p99 per query kind.

Runs against a database filled by national_dataset.py (1,000,000 cases by default) and the zone
files it wrote. The web service runs on gunicorn (gthread workers, the production WSGI entry, no
embedded scheduler); every request opens a new connection, so requests spread over the workers.
Eight administrator sessions search the admin console's instance list (`/admin/istanze`) at once,
each round in a shuffled order: a part of a surname (three or four letters from inside it), a whole
surname, a whole name, a codice fiscale, a zone, a zone's open instances, a zone and a name part,
a process version, a version and a status, a status alone, the unfiltered first page, and the next
page of a zone reached by the page's own cursor link. Names, codici fiscali and zones are drawn
from the data set at random. Each page also counts the matches per status, as the console shows them.

Then the same searches run without the web layer: eight threads of one process call the
service (`list_instances`, the page's query and its counts per status, audited) on their own
connections, to tell the database's share from the page's (session, template, HTTP).

"Cold" is the first request of each kind by each administrator right after the server starts;
"warm" is everything after. Wall time is what the client saw, connection set-up included. Any
error (a status other than 200, a page without the expected list) fails the run.
Target: p95 <= 100 ms for every kind.

The data set has one administrator account (`bench.admin`); the eight administrators are eight
sessions of it. Every listing is audited (`instances.listed`), so the run writes one audit row per
request, as the console does in service.

    .venv/bin/python benchmarks/admin_search.py --postgres URL [--zones-dir var/national/zones]
        [--workers 4] [--threads 2] [--rounds 15] [--admins 8]
"""

from __future__ import annotations

import argparse
import html
import os
import random
import re
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from werkzeug.datastructures import MultiDict  # noqa: E402

from benchmarks.case_list import (  # noqa: E402
    Operator, Tally, call, crashes_count_as_errors, login, pct, start_server)
from benchmarks.http_completions import _children, _cpu_of, cpu_spent  # noqa: E402
from benchmarks.national_dataset import ADMIN, DEFAULT_URL, settings  # noqa: E402
from gol_workflow.bootstrap import bootstrap  # noqa: E402
from gol_workflow.services.administration.instance_queries import PageRequest, list_instances  # noqa: E402
from gol_workflow.web.admin.listing import filters_from  # noqa: E402

TARGET_MS = 100.0
# Names the connections of each part, so that only their backends' CPU is counted (others may use the database).
APPLICATION = "gol-admin-search-benchmark"
WEB = "gol-admin-search-web"


def named(url: str, application: str) -> str:
    """The database URL with an application name its backends show in pg_stat_activity."""
    return url + ("&" if "?" in url else "?") + f"application_name={application}"


def backends_of(url: str, application: str) -> list[int]:
    """Process ids of the backends serving connections of that application name."""
    with psycopg.connect(url, autocommit=True) as conn:
        return [int(r[0]) for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (application,))]


def cpu_snapshot(server: int, url: str, application: str) -> dict[str, dict[int, float]]:
    """CPU seconds so far of the gunicorn processes and of the backends serving them."""
    return {"app": {p: _cpu_of(p) for p in [server, *_children(server)]},
            "db": {p: _cpu_of(p) for p in backends_of(url, application)}}
LISTED = re.compile(r'href="/admin/istanze/([0-9a-f-]{36})"')
NEXT = re.compile(r'href="(/admin/istanze\?[^"]*dopo=[^"]+)"')


@dataclass
class Sample:
    """What the administrators search for, drawn from the data set."""

    names: list[tuple[str, str]] = field(default_factory=list)  # (first, last)
    codici: list[str] = field(default_factory=list)
    zones: list[str] = field(default_factory=list)
    version: int = 1


def sample(url: str, seed: int) -> tuple[Sample, dict[str, object]]:
    """Names, codici fiscali and zones of random cases, and the data set's size."""
    found = Sample()
    with psycopg.connect(url) as conn:
        conn.execute("SELECT setseed(%s)", (((seed % 1000) / 1000.0),))
        rows = conn.execute(
            "SELECT beneficiary_name, codice_fiscale, zone FROM instances TABLESAMPLE BERNOULLI (1) "
            "WHERE process_id = 'percorso4' AND beneficiary_name LIKE '%% %%' LIMIT 2000").fetchall()
        found.names = [tuple(r[0].split(" ", 1)) for r in rows]  # type: ignore[misc]
        found.codici = [r[1] for r in rows]
        found.zones = sorted({r[2] for r in rows})
        found.version = conn.execute(
            "SELECT max(version) FROM process_versions WHERE process_id = 'percorso4'").fetchone()[0]
        facts = {
            "instances": conn.execute("SELECT count(*) FROM instances").fetchone()[0],
            "revision": conn.execute("SELECT version_num FROM alembic_version").fetchone()[0],
            "server": conn.execute("SHOW server_version").fetchone()[0],
            "name index": conn.execute(
                "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam "
                "WHERE c.relname = 'ix_instances_beneficiary_name_trgm'").fetchone(),
        }
    return found, facts


def requests_of(s: Sample, rnd: random.Random) -> list[tuple[str, dict[str, object]]]:
    """One round of (kind, filters) for an administrator, shuffled."""
    first, last = rnd.choice(s.names)
    start = rnd.randrange(0, max(1, len(last) - 3))
    part = last[start:start + rnd.choice((3, 4))].lower()
    zone = rnd.choice(s.zones)
    kinds: dict[str, dict[str, object]] = {
        "first page, no filter": {},
        "name part": {"beneficiario": part},
        "surname": {"beneficiario": last},
        "whole name": {"beneficiario": f"{first} {last}"},
        "codice fiscale": {"beneficiario": rnd.choice(s.codici)},
        "zone": {"zona": zone},
        "zone, open": {"zona": zone, "stato": ["running", "waiting"]},
        "zone + name part": {"zona": zone, "beneficiario": part},
        "process version": {"processo": "percorso4", "versione": s.version},
        "version + status": {"processo": "percorso4", "versione": s.version, "stato": rnd.choice(("waiting", "running"))},
        "status": {"stato": rnd.choice(("completed", "running", "waiting", "terminated"))},
    }
    out = list(kinds.items())
    rnd.shuffle(out)
    return out


def admin_client(port: int, op: Operator, s: Sample, rounds: int, seed: int, tally: Tally,
                 start: threading.Barrier) -> None:
    """One administrator: a cold round, then `rounds` warm ones; after a zone page, its next page."""
    rnd = random.Random(seed)
    start.wait()
    seen: set[str] = set()

    def get(kind: str, path: str) -> str | None:
        status, ms, body, response = call(port, "GET", path, {"Cookie": op.cookie})
        page = body.decode("utf-8", "replace")
        if status != 200 or "Istanze" not in page:
            with tally.lock:
                tally.errors.append(f"{op.username} GET {path}: {status}")
            return None
        timing = re.search(r"dur=([0-9.]+)", response.getheader("Server-Timing") or "")
        tally.add(kind, ms, kind not in seen, float(timing.group(1)) if timing else None)
        seen.add(kind)
        return page

    for _ in range(rounds + 1):
        for kind, filters in requests_of(s, rnd):
            path = "/admin/istanze" + ("?" + urlencode(filters, doseq=True) if filters else "")
            page = get(kind, path)
            if page is None:
                continue
            if kind == "codice fiscale" and not LISTED.search(page):
                with tally.lock:
                    tally.errors.append(f"{op.username} GET {path}: the case with this codice fiscale is not listed")
            if kind == "zone":
                following = NEXT.search(page)
                if following is None:
                    with tally.lock:
                        tally.errors.append(f"{op.username} GET {path}: no next page link")
                    continue
                get("zone, next page by cursor", html.unescape(following.group(1)))


def service_client(rt: object, s: Sample, rounds: int, seed: int, tally: Tally, start: threading.Barrier) -> None:
    """The same searches straight on the service, as the page calls it (no session, template or HTTP)."""
    rnd = random.Random(seed)
    start.wait()
    seen: set[str] = set()
    for _ in range(rounds + 1):
        for kind, filters in requests_of(s, rnd):
            args = MultiDict([(k, str(x)) for k, v in filters.items() for x in (v if isinstance(v, list) else [v])])
            began = time.perf_counter()
            try:
                page = list_instances(rt, ADMIN, filters_from(args), PageRequest())  # type: ignore[arg-type]
            except Exception as exc:  # noqa: BLE001 - any failure fails the run, with what it was
                with tally.lock:
                    tally.errors.append(f"service {kind} {filters}: {exc!r}")
                continue
            ms = (time.perf_counter() - began) * 1000
            if kind == "codice fiscale" and not page.items:
                with tally.lock:
                    tally.errors.append(f"service {kind} {filters}: not found")
            tally.add(kind, ms, kind not in seen, ms)
            seen.add(kind)


def print_table(tally: Tally, server: bool) -> bool:
    """Percentiles per kind; True when every warm p95 meets the target."""
    met = True
    extra = " server p50 | server p95 |" if server else ""
    print(f"| search | n | p50 | p95 | p99 |{extra} cold n | cold p50 | cold max |")
    print("|---|---:|---:|---:|---:|" + ("---:|---:|" if server else "") + "---:|---:|---:|")
    for kind in sorted(tally.warm):
        warm, cold = tally.warm[kind], tally.cold.get(kind, [])
        p95 = pct(warm, 95)
        met = met and p95 <= TARGET_MS
        flag = "" if p95 <= TARGET_MS else " **over target**"
        times = tally.server.get(kind) or [float("nan")]
        middle = f" {pct(times, 50):.1f} | {pct(times, 95):.1f} |" if server else ""
        print(f"| {kind}{flag} | {len(warm)} | {pct(warm, 50):.1f} | {p95:.1f} | {pct(warm, 99):.1f} |{middle} "
              f"{len(cold)} | {pct(cold, 50) if cold else 0:.1f} | {max(cold) if cold else 0:.1f} |")
    every = [v for vs in tally.warm.values() for v in vs]
    if every:
        print(f"every search (warm): n {len(every)}, p50 {pct(every, 50):.1f} ms, p95 {pct(every, 95):.1f} ms, "
              f"p99 {pct(every, 99):.1f} ms")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("GOL_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--zones-dir", type=Path, default=ROOT / "var" / "national" / "zones")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=15, help="warm rounds per administrator (12 requests each)")
    parser.add_argument("--admins", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--service-only", action="store_true", help="leave out the HTTP part")
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="gol-admin-search-"))
    s, facts = sample(args.postgres, args.seed)
    index = facts["name index"]
    print(f"Admin search benchmark: {facts['instances']:,} instances, schema {facts['revision']}, PostgreSQL "
          f"{facts['server']}; name index: {index[0] if index else 'none'} "
          f"({'trigram: any part of a name' if index and index[0] == 'gin' else 'prefix of the name only'}); "
          f"gunicorn {args.workers} workers x {args.threads} threads (gthread), a new connection per request; "
          f"{args.admins} administrator sessions at once, {args.rounds} warm rounds each; {len(s.names)} names and "
          f"{len(s.zones)} zones sampled; {os.cpu_count()} CPUs, load average before "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    tally = Tally()
    crashes_count_as_errors(tally.errors)
    if not args.service_only:
        http_part(args, s, var_dir, tally)
    if tally.errors:
        print(f"{len(tally.errors)} errors, e.g.: " + "; ".join(tally.errors[:5]))
        return 1
    return service_part(args, s, var_dir)


def http_part(args: argparse.Namespace, s: Sample, var_dir: Path, tally: Tally) -> None:
    """The searches over HTTP on gunicorn, printed."""
    process, port = start_server(named(args.postgres, WEB), args.zones_dir, var_dir, args.workers, args.threads)
    try:
        admins = [Operator(ADMIN.username, "admin", "") for _ in range(args.admins)]
        for op in admins:
            login(port, op)
        start = threading.Barrier(len(admins) + 1)
        threads = [threading.Thread(target=admin_client, args=(port, op, s, args.rounds, args.seed + i, tally, start))
                   for i, op in enumerate(admins)]
        for thread in threads:
            thread.start()
        before = cpu_snapshot(process.pid, args.postgres, WEB)
        began = time.perf_counter()
        start.wait()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - began
        cpu = cpu_spent(before, cpu_snapshot(process.pid, args.postgres, WEB))
    finally:
        process.terminate()
        process.wait(timeout=30)
    requests = sum(len(v) for v in tally.warm.values()) + sum(len(v) for v in tally.cold.values())
    print(f"{requests:,} searches in {seconds:.1f} s ({requests / seconds:.1f}/s); CPU meanwhile: gunicorn workers "
          f"{cpu['app']:.1f} s, PostgreSQL backends {cpu['db']:.1f} s ({1000 * cpu['app'] / max(1, requests):.1f} + "
          f"{1000 * cpu['db'] / max(1, requests):.1f} ms per search); load average after "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("Wall time as the client saw it (ms); server = the app's own time (Server-Timing), warm.")
    met = print_table(tally, server=True)
    if tally.untimed:
        print(f"{tally.untimed} responses had no Server-Timing header (left out of the server figures)")
    print(f"target p95 <= {TARGET_MS:.0f} ms for every search kind over HTTP: {'met' if met else 'MISSED'}", flush=True)


def service_part(args: argparse.Namespace, s: Sample, var_dir: Path) -> int:
    """The same searches on the service in-process, printed; 1 on any error."""
    rt = bootstrap(settings(named(args.postgres, APPLICATION), args.zones_dir, var_dir))
    direct = Tally()
    cpu_before = time.process_time()
    start = threading.Barrier(args.admins + 1)
    threads = [threading.Thread(target=service_client, args=(rt, s, args.rounds, args.seed + 100 + i, direct, start))
               for i in range(args.admins)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    app_cpu = time.process_time() - cpu_before
    pids = backends_of(args.postgres, APPLICATION)
    db_cpu = sum(_cpu_of(pid) for pid in pids)  # backends opened for this part: all they spent
    rt.db.dispose()
    searches = sum(len(v) for v in direct.warm.values()) + sum(len(v) for v in direct.cold.values())
    print(f"The service alone ({args.admins} threads of one process, each on its own connection): {searches:,} searches "
          f"in {seconds:.1f} s; CPU: this process {app_cpu:.1f} s, its {len(pids)} PostgreSQL backends {db_cpu:.1f} s "
          f"({1000 * app_cpu / max(1, searches):.1f} + {1000 * db_cpu / max(1, searches):.1f} ms per search); "
          f"load average after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    service_met = print_table(direct, server=False)
    if direct.errors:
        print(f"{len(direct.errors)} errors, e.g.: " + "; ".join(direct.errors[:5]))
        return 1
    print(f"target p95 <= {TARGET_MS:.0f} ms for every search kind, service: {'met' if service_met else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

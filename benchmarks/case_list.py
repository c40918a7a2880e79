"""The case list and the case file against the national data set: 8 operators, completions running, p50/p95/p99.

Runs against a database filled by national_dataset.py (1,000,000 cases by default) and the zone
files it wrote. The web service runs on gunicorn (gthread workers, the production WSGI entry);
every request opens a new connection, so requests spread over the workers as a browser's or a
proxy's would. Eight operators of different zones and roles work at once: two CPI operators,
two social services operators (SdS), two ATS case managers, two specialists. Each one cycles
through the case list (`/casi` and `GET /api/v1/cases`: first page, name part, codice fiscale,
zone, open and closed, a step, overdue, other sort orders, the last page of their cases) and
the case file (`/casi/<id>` and `GET /api/v1/cases/<id>`) of cases they may see. Meanwhile
background clients open cases and complete their profiling over the API (each completion a real
one: the case record, the inbox, the audit written in the same transaction).

"Cold" is the first request of each kind by each operator right after the server starts
(empty workflow cache, fresh worker processes; the database's own cache is whatever the
machine holds); "warm" is everything after. Wall time is what the client saw, connection set-up
included. Any error (a status other than 200, a failed completion) fails the run.
Target: p95 <= 100 ms for every list request kind and for the case file.

    .venv/bin/python benchmarks/case_list.py --postgres URL [--zones-dir var/national/zones]
        [--workers 4] [--threads 2] [--rounds 20] [--completers 2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.national_dataset import ADMIN, DEFAULT_URL, PASSWORD, codice_fiscale, settings  # noqa: E402
from benchmarks.http_completions import cpu_snapshot, cpu_spent  # noqa: E402
from gol_workflow.bootstrap import bootstrap  # noqa: E402
from gol_workflow.services.access import tokens  # noqa: E402

PAGE = 25
TARGET_MS = 100.0
# (username, role) of the eight operators; zones differ.
OPERATORS = (("cpi.pistoiese", "cpi"), ("cpi.zona-017", "cpi"), ("sds.valdinievole", "sds"),
             ("sds.zona-042", "sds"), ("cm.zona-023.2", "ats"), ("cm.zona-061.4", "ats"),
             ("spec.zona-075", "specialist"), ("spec.zona-088", "specialist"))
COMPLETER = "cpi.zona-099"
PROFILE = {"bisogni_complessi": False, "fabbisogno_formativo": "riqualificazione",
           "note_assessment": "Competenze da riqualificare, nessun bisogno complesso."}


# -- what each operator may see ----------------------------------------------------------------


@dataclass
class Operator:
    """One operator: who, how they authenticate, and cases, names and steps of their scope."""

    username: str
    role: str
    zone: str
    token: str = ""
    cookie: str = ""
    case_ids: list[str] = field(default_factory=list)
    codici: list[str] = field(default_factory=list)
    surnames: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    visible: int = 0  # how many cases they may see


def scope_sql(op: Operator) -> tuple[str, tuple[Any, ...]]:
    """The cases an operator may see, as the authorization rules say (for choosing requests, not measured)."""
    if op.role == "ats":
        return "case_manager = %s", (op.username,)
    if op.role == "specialist":
        return "zone = %s AND specialist_services LIKE %s", (op.zone, '%"salute_mentale"%')
    return "zone = %s", (op.zone,)


def prepare(url: str, zones_dir: Path, var_dir: Path, seed: int) -> tuple[list[Operator], str]:
    """Tokens for the operators and the completer; a sample of each operator's cases, names and steps."""
    rt = bootstrap(settings(url, zones_dir, var_dir))
    ops: list[Operator] = []
    with psycopg.connect(url) as conn:
        for username, role in OPERATORS:
            zone = json.loads(conn.execute("SELECT zones FROM users WHERE username = %s", (username,)).fetchone()[0])[0]
            ops.append(Operator(username, role, zone))
        for op in ops:
            where, params = scope_sql(op)
            op.visible = conn.execute(f"SELECT count(*) FROM cases WHERE {where}", params).fetchone()[0]
            sample = conn.execute(f"SELECT id, codice_fiscale, beneficiary_name FROM cases WHERE {where} "
                                  f"ORDER BY md5(id || %s) LIMIT 400", (*params, str(seed))).fetchall()
            op.case_ids = [r[0] for r in sample]
            op.codici = [r[1] for r in sample]
            op.surnames = sorted({r[2].split(" ", 1)[1] for r in sample})
            op.steps = [r[0] for r in conn.execute(
                f"SELECT DISTINCT current_step FROM cases WHERE {where} AND current_step IS NOT NULL "
                f"AND current_step NOT LIKE 'In attesa%%'", params)]
    for op in ops:
        op.token = tokens.issue_token(rt, op.username, ADMIN, "case list benchmark").secret
    completer = tokens.issue_token(rt, COMPLETER, ADMIN, "case list benchmark").secret
    rt.db.dispose()
    return ops, completer


def requests_of(op: Operator, rnd: random.Random) -> list[tuple[str, str]]:
    """One round of (kind, path) for an operator: every list shape on the web and the API, and case files."""
    surname = rnd.choice(op.surnames)
    part = surname[1:4].lower()  # a part of a name, as typed
    code = rnd.choice(op.codici)
    step = rnd.choice(op.steps) if op.steps else "Monitoraggio in itinere"
    last_page = max(1, -(-op.visible // PAGE))
    case_id, other_id = rnd.choice(op.case_ids), rnd.choice(op.case_ids)
    web = {
        "list: first page": {},
        "list: name part": {"cerca": part},
        "list: surname": {"cerca": surname},
        "list: codice fiscale": {"cerca": code},
        "list: zone": {"zona": op.zone} if op.role != "ats" else {"miei": "1"},
        "list: open": {"stato": "aperto"},
        "list: closed, by name": {"stato": "chiuso", "ordina": "nome", "verso": "asc"},
        "list: step": {"passo": step},
        "list: overdue": {"scadute": "1"},
        "list: by end date": {"ordina": "fine"},
        "list: by opening, page 3": {"ordina": "aperto", "verso": "asc", "pagina": "3"},
        "list: last page": {"pagina": str(last_page)},
    }
    api_names = {"cerca": "q", "zona": "zone", "stato": "status", "passo": "step", "scadute": "overdue",
                 "miei": "mine", "ordina": "sort", "verso": "order", "pagina": "page"}
    out: list[tuple[str, str]] = []
    for kind, params in web.items():
        out.append((f"web {kind}", "/casi" + ("?" + urlencode(params) if params else "")))
        api: dict[str, str] = {}
        for key, value in params.items():
            if key == "ordina":
                value = {"nome": "name", "fine": "end", "aperto": "opened"}[value]
            elif key in ("scadute", "miei"):
                value = "true"
            api[api_names[key]] = value
        out.append((f"api {kind}", "/api/v1/cases" + ("?" + urlencode(api) if api else "")))
    out.append(("web case file", f"/casi/{case_id}"))
    out.append(("api case record", f"/api/v1/cases/{other_id}"))
    rnd.shuffle(out)
    return out


# -- the server and the clients ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, zones_dir: Path, var_dir: Path, workers: int, threads: int) -> tuple[subprocess.Popen, int]:
    """gunicorn with the production WSGI entry, the data set's zones, no embedded scheduler."""
    port = free_port()
    env = {**os.environ, "GOL_DATABASE_URL": url, "GOL_SECRET_KEY": "benchmark-secret", "GOL_VAR_DIR": str(var_dir),
           "GOL_PROCESSES_DIR": str(ROOT / "processes"), "GOL_FORMS_DIR": str(ROOT / "forms"),
           "GOL_ZONES_DIR": str(zones_dir), "GOL_EMBEDDED_SCHEDULER": "0"}
    command = [str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "--threads", str(threads),
               "-k", "gthread", "-b", f"127.0.0.1:{port}", "--log-level", "warning", "gol_workflow.web.wsgi:create()"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/openapi.json")
            if conn.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the web server did not start")


def call(port: int, method: str, path: str, headers: dict[str, str], body: bytes | None = None
         ) -> tuple[int, float, bytes, http.client.HTTPResponse]:
    """One request on a new connection; returns status, wall milliseconds, body and the response."""
    began = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers={**headers, "Connection": "close"})
        response = conn.getresponse()
        payload = response.read()
    finally:
        conn.close()
    return response.status, (time.perf_counter() - began) * 1000, payload, response


def crashes_count_as_errors(errors: list[str]) -> None:
    """An exception that ends a client thread is an error of the run, not only a traceback on the console."""
    printed = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        errors.append(f"{args.thread.name if args.thread else 'a thread'} stopped: {args.exc_type.__name__}: "
                      f"{args.exc_value}")
        printed(args)

    threading.excepthook = hook


class Person(Protocol):
    """Who logs in: a username, and the session cookie the login sets."""

    username: str
    cookie: str


def login(port: int, op: Person) -> None:
    """A web session for the operator (the session cookie is reused on every new connection)."""
    status, _, page, response = call(port, "GET", "/accesso", {})
    cookie = _cookie(response) or ""
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    if match is None:
        raise RuntimeError("the login page has no CSRF token")
    token = match.group(1).decode()
    body = urlencode({"csrf_token": token, "username": op.username, "password": PASSWORD}).encode()
    status, _, _, response = call(port, "POST", "/accesso", {"Cookie": cookie,
                                                             "Content-Type": "application/x-www-form-urlencoded"}, body)
    if status != 302:
        raise RuntimeError(f"{op.username} could not log in: {status}")
    op.cookie = _cookie(response) or cookie


def _cookie(response: http.client.HTTPResponse) -> str | None:
    for header, value in response.getheaders():
        if header.lower() == "set-cookie" and value.startswith("gol_sessione="):
            return value.split(";", 1)[0]
    return None


@dataclass
class Tally:
    """Wall times per request kind, cold and warm, and the errors seen."""

    cold: dict[str, list[float]] = field(default_factory=dict)
    warm: dict[str, list[float]] = field(default_factory=dict)
    server: dict[str, list[float]] = field(default_factory=dict)  # the app's own time (Server-Timing), warm
    untimed: int = 0  # responses without a Server-Timing header (not counted as 0)
    errors: list[str] = field(default_factory=list)
    completions: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, ms: float, cold: bool, server: float | None) -> None:
        with self.lock:
            (self.cold if cold else self.warm).setdefault(kind, []).append(ms)
            if server is None:
                self.untimed += 1
            elif not cold:
                self.server.setdefault(kind, []).append(server)


def operator_client(port: int, op: Operator, rounds: int, seed: int, tally: Tally, start: threading.Barrier) -> None:
    """The operator's requests: one cold round, then `rounds` warm ones."""
    rnd = random.Random(seed)
    start.wait()
    seen: set[str] = set()
    for _ in range(rounds + 1):
        for kind, path in requests_of(op, rnd):
            headers = {"Authorization": f"Bearer {op.token}"} if path.startswith("/api/") else {"Cookie": op.cookie}
            status, ms, _, response = call(port, "GET", path, headers)
            if status != 200:
                with tally.lock:
                    tally.errors.append(f"{op.username} GET {path}: {status}")
                continue
            timing = re.search(r"dur=([0-9.]+)", response.getheader("Server-Timing") or "")
            tally.add(kind, ms, kind not in seen, float(timing.group(1)) if timing else None)
            seen.add(kind)


def completer_client(port: int, token: str, zone: str, number: int, stop: threading.Event, tally: Tally) -> None:
    """Open cases and complete their profiling over the API until told to stop."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    n = 50_000_000 + number * 1_000_000
    while not stop.is_set():
        n += 1
        person = {"codice_fiscale": codice_fiscale(n, "Mario", "Bench", date(1980, 1, 1), False),
                  "nome": "Mario", "cognome": "Bench", "data_nascita": "1980-01-01"}
        body = json.dumps({"process": "percorso4", "data": {"zona": zone, "beneficiario": person},
                           "confirm_codice_fiscale": True}).encode()
        status, ms, payload, _ = call(port, "POST", "/api/v1/instances", headers, body)
        if status != 201:
            tally.errors.append(f"start: {status} {payload[:200]!r}")
            return
        task = json.loads(payload)["tasks"][0]["id"]
        status, ms2, payload, _ = call(port, "POST", f"/api/v1/tasks/{task}/complete", headers,
                                       json.dumps({"data": PROFILE}).encode())
        if status != 200:
            tally.errors.append(f"complete: {status} {payload[:200]!r}")
            return
        with tally.lock:
            tally.completions.extend([ms, ms2])


# -- the run ---------------------------------------------------------------------------------------


def pct(values: list[float], q: int) -> float:
    """The q-th percentile (inclusive method); the value itself for one sample."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report(tally: Tally) -> bool:
    """Print the percentiles per kind, cold and warm; True when every warm p95 meets the target."""
    met = True
    print("Wall time as the client saw it (ms); server = the app's own time (Server-Timing), warm.")
    print("| request | n | p50 | p95 | p99 | server p50 | server p95 | cold n | cold p50 | cold max |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind in sorted(tally.warm):
        warm, cold = tally.warm[kind], tally.cold.get(kind, [])
        p95 = pct(warm, 95)
        flag = "" if p95 <= TARGET_MS else " **over target**"
        met = met and p95 <= TARGET_MS
        server = tally.server.get(kind) or [float("nan")]
        print(f"| {kind}{flag} | {len(warm)} | {pct(warm, 50):.1f} | {p95:.1f} | {pct(warm, 99):.1f} | "
              f"{pct(server, 50):.1f} | {pct(server, 95):.1f} | "
              f"{len(cold)} | {pct(cold, 50) if cold else 0:.1f} | {max(cold) if cold else 0:.1f} |")
    lists = [v for k, vs in tally.warm.items() if " list" in k for v in vs]
    files = [v for k, vs in tally.warm.items() if " list" not in k for v in vs]
    server_lists = [v for k, vs in tally.server.items() if " list" in k for v in vs]
    server_files = [v for k, vs in tally.server.items() if " list" not in k for v in vs]
    cold_all = [v for vs in tally.cold.values() for v in vs]
    for label, values in (("all list requests (warm)", lists), ("all case file requests (warm)", files),
                          ("every request kind, cold", cold_all), ("server time, list (warm)", server_lists),
                          ("server time, case file (warm)", server_files)):
        if values:
            print(f"{label}: n {len(values)}, p50 {pct(values, 50):.1f} ms, p95 {pct(values, 95):.1f} ms, "
                  f"p99 {pct(values, 99):.1f} ms")
    if tally.untimed:
        print(f"{tally.untimed} responses had no Server-Timing header (left out of the server figures)")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("GOL_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--zones-dir", type=Path, default=ROOT / "var" / "national" / "zones")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=20, help="warm rounds per operator (26 requests each)")
    parser.add_argument("--completers", type=int, default=2, help="background clients completing tasks")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="gol-case-list-"))
    with psycopg.connect(args.postgres) as conn:
        cases, open_cases = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status NOT IN ('completed', 'terminated')) FROM cases").fetchone()
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        server_version = conn.execute("SHOW server_version").fetchone()[0]
    ops, completer = prepare(args.postgres, args.zones_dir, var_dir, args.seed)
    print(f"Case list benchmark: {cases:,} cases ({open_cases:,} open), schema {revision}, PostgreSQL "
          f"{server_version}; gunicorn {args.workers} workers x {args.threads} threads (gthread), a new connection "
          f"per request; {len(ops)} operators ({', '.join(f'{o.username} [{o.visible:,} cases]' for o in ops)}); "
          f"{args.completers} background clients opening cases and completing their profiling; "
          f"{os.cpu_count()} CPUs, load average before {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    process, port = start_server(args.postgres, args.zones_dir, var_dir, args.workers, args.threads)
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
        before = cpu_snapshot(process.pid, args.postgres)
        began = time.perf_counter()
        start.wait()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - began
        cpu = cpu_spent(before, cpu_snapshot(process.pid, args.postgres))
        writes = len(tally.completions)
        stop.set()
        for thread in completers:
            thread.join()
    finally:
        process.terminate()
        process.wait(timeout=30)
    requests = sum(len(v) for v in tally.warm.values()) + sum(len(v) for v in tally.cold.values())
    print(f"CPU spent meanwhile: gunicorn workers {cpu['app']:.1f} s, PostgreSQL backends {cpu['db']:.1f} s, for "
          f"{requests:,} reads and {writes:,} writes: {1000 * (cpu['app'] + cpu['db']) / (requests + writes):.1f} ms "
          f"per request on average ({1000 * cpu['app'] / (requests + writes):.1f} app, "
          f"{1000 * cpu['db'] / (requests + writes):.1f} database), over {seconds:.0f} s of {os.cpu_count()} CPUs")
    print(f"{requests:,} reads in {seconds:.1f} s ({requests / seconds:.1f}/s) while {len(tally.completions):,} "
          f"writes ran (case starts and profiling completions: {len(tally.completions) / seconds:.1f}/s, p95 "
          f"{pct(tally.completions, 95) if tally.completions else 0:.0f} ms); load average after "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    met = report(tally)
    if tally.errors:
        print(f"{len(tally.errors)} errors, e.g.: " + "; ".join(tally.errors[:5]))
        return 1
    print(f"target p95 <= {TARGET_MS:.0f} ms for every list kind and the case file: {'met' if met else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Mixed load on the national data set: completions, inboxes, case lists and admin search over HTTP while timers fire.

Runs against a database filled by national_dataset.py (its zone files and operators). The web
service runs with the README's production command (`gunicorn --workers N -c
gol_workflow/web/gunicorn_hooks.py 'gol_workflow.web.wsgi:create()'`: sync workers, no embedded
scheduler) and `--schedulers` `gol-workflow scheduler` processes beside it (one by default). Every request opens a new
connection, so requests spread over the workers as a proxy's would.

Eight clients, each an operator of their own role and zone, work at once with no pause:
- four CPI operators of four zones complete the first step of Percorso 4 (the profiling,
  `POST /api/v1/tasks/{id}/complete`) of cases opened for them before the run, and between
  completions open their inbox (`/attivita`) and their case list (`/casi`);
- a social services operator, an ATS case manager and a specialist open their inboxes and case
  lists (first page, overdue, a name, open cases, a step);
- an administrator searches the instances (`/admin/istanze`) by part of a name, codice fiscale,
  zone, process version and status.
The cases completed were opened in the benchmark's own process, so no web worker has their
workflow in its cache: every completion loads the case's state (the cold case).

Meanwhile timer instances (`tests/data/processes/timer_wait.bpmn`, deployed when missing) fall due
every `--timer-every` seconds and the scheduler fires them (and whatever else of the data set
falls due); a timer's lateness is the time from its due instant to its `timer.fired` audit
event. With `--burst N`, N timers fall due at one instant during the run as well.

"Cold" is each client's first request of each kind after the server starts; "warm" every later
one. Wall time is what the client saw, connection included; the app's own time (the
`Server-Timing` header, web pages) is beside it, and responses without it are counted apart,
not as 0 ms. **Any error (a status other than the expected one, a failed connection, a timer
not fired) fails the run** (exit status 1).

Writes: the cases opened and completed, the timer instances (removed after the run, their
audit rows kept), API tokens and the scheduler's
work go into the database the run is pointed at.

    .venv/bin/python benchmarks/mixed_load.py --postgres URL [--zones-dir var/national/zones]
        [--workers 4] [--completions 2000] [--timer-every 0.5] [--burst 0] [--pgbouncer] [--pool-size 8]
        [--only-completions] [--complex-needs] [--schedulers 1]

With `--only-completions` eight CPI operators of eight zones only complete (no reads, no timers
of the run; the scheduler process still runs): the completions alone, as an outside client
measures them against another engine. The profilings find no complex needs (the case closes at
its first step) unless `--complex-needs` (the case goes on to the equipe: a meeting of the zone
booked, the invitation letter issued).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_processes import DATA, operator_sources  # noqa: E402
from benchmarks.case_list import call, crashes_count_as_errors, login  # noqa: E402
from benchmarks.http_completions import cpu_snapshot, cpu_spent, _cpu_of  # noqa: E402
from benchmarks.national_dataset import ADMIN, DEFAULT_URL, codice_fiscale, settings  # noqa: E402
from benchmarks.pgbouncer import ServerConnections, pgbouncer  # noqa: E402
from benchmarks.timers import clone_timers  # noqa: E402
from gol_workflow.api.instances import CF_RULE  # noqa: E402
from gol_workflow.bootstrap import bootstrap  # noqa: E402
from gol_workflow.clock import ManualClock  # noqa: E402
from gol_workflow.domain.model import Actor  # noqa: E402
from gol_workflow.services.access import tokens  # noqa: E402
from gol_workflow.services.administration import deployment  # noqa: E402
from gol_workflow.services.cases import case_start  # noqa: E402
from gol_workflow.services.workflow.runtime import Runtime  # noqa: E402

GOL = Path(sys.executable).parent / "gol-workflow"
GUNICORN = Path(sys.executable).parent / "gunicorn"
# (username, role): four CPI operators who complete, three readers of other roles, an administrator.
CLIENTS = (("cpi.zona-003", "cpi"), ("cpi.zona-017", "cpi"), ("cpi.zona-031", "cpi"), ("cpi.zona-045", "cpi"),
           ("sds.zona-052", "sds"), ("cm.zona-061.4", "ats"), ("spec.zona-075", "specialist"),
           (ADMIN.username, "admin"))
# --only-completions: eight CPI operators of eight zones, completing and nothing else.
COMPLETERS = tuple((f"cpi.zona-{zone:03d}", "cpi") for zone in (3, 17, 31, 45, 52, 61, 75, 88))
PROFILE = {"bisogni_complessi": False, "fabbisogno_formativo": "riqualificazione",
           "note_assessment": "Competenze da riqualificare, nessun bisogno complesso."}
# --complex-needs: the case goes on to Percorso 4 (the equipe's next meeting booked, the letter issued).
PROFILE_COMPLEX = {"bisogni_complessi": True, "fabbisogno_formativo": "aggiornamento",
                   "note_assessment": "Disoccupato da oltre 24 mesi, rete familiare fragile.",
                   "conosciuto_servizio_sociale": False, "bisogni_particolari": False}
TARGETS = {"completion": 100.0, "inbox": 50.0, "case list": 50.0, "admin search": 100.0}
TARGET_RATE = 300.0
TARGET_LATENESS_MS = 2000.0
TARGET_BURST_S = 30.0
APPLICATION = "gol-mixed-load"


# -- who the clients are, and what they ask for --------------------------------------------------


@dataclass
class Client:
    """One operator: credentials, what their scope holds (to choose realistic requests), their tasks."""

    username: str
    role: str
    zone: str = ""
    token: str = ""
    cookie: str = ""
    surnames: list[str] = field(default_factory=list)
    codici: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)  # profiling tasks to complete


def scope_sql(client: Client) -> tuple[str, tuple[Any, ...]]:
    """The cases a client may see, as the authorisation rules say (for choosing requests, not measured)."""
    if client.role == "ats":
        return "case_manager = %s", (client.username,)
    if client.role == "specialist":
        return "zone = %s AND specialist_services LIKE %s", (client.zone, '%"salute_mentale"%')
    if client.role == "admin":
        return "TRUE", ()
    return "zone = %s", (client.zone,)


def describe(url: str, clients: list[Client], seed: int) -> dict[str, Any]:
    """Read each client's zone and a sample of their scope; the data set's size and schema."""
    with psycopg.connect(url) as conn:
        facts = dict(zip(("cases", "open"), conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status NOT IN ('completed', 'terminated')) FROM cases"
        ).fetchone() or (0, 0), strict=True))
        facts["revision"] = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]  # type: ignore[index]
        facts["server"] = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        facts["instances"] = conn.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'instances'"
                                          ).fetchone()[0]  # type: ignore[index]
        facts["version"] = conn.execute("SELECT max(version) FROM process_versions WHERE process_id = 'percorso4'"
                                        ).fetchone()[0]  # type: ignore[index]
        for client in clients:
            zones = json.loads(conn.execute("SELECT zones FROM users WHERE username = %s",
                                            (client.username,)).fetchone()[0])  # type: ignore[index]
            client.zone = zones[0] if zones else "zona-010"
            where, params = scope_sql(client)
            sample = conn.execute(f"SELECT codice_fiscale, beneficiary_name FROM cases TABLESAMPLE SYSTEM (5) "
                                  f"WHERE {where} LIMIT 200", params).fetchall()
            if len(sample) < 20:
                sample = conn.execute(f"SELECT codice_fiscale, beneficiary_name FROM cases WHERE {where} "
                                      f"ORDER BY md5(id || %s) LIMIT 200", (*params, str(seed))).fetchall()
            client.codici = [r[0] for r in sample]
            client.surnames = sorted({r[1].split(" ", 1)[-1] for r in sample})
            if client.role != "admin":  # the administrator's searches use no step
                client.steps = [r[0] for r in conn.execute(
                    f"SELECT DISTINCT current_step FROM cases WHERE {where} AND current_step IS NOT NULL "
                    f"AND current_step NOT LIKE 'In attesa%%' LIMIT 20", params)]
    return facts


def reads_of(client: Client, rnd: random.Random, version: int) -> list[tuple[str, str]]:
    """The read requests a client cycles through: (kind, path)."""
    surname = rnd.choice(client.surnames) if client.surnames else "Rossi"
    part = surname[1:4].lower()
    if client.role == "admin":
        code = rnd.choice(client.codici) if client.codici else "RSSMRA80A01G713X"
        searches = [{"beneficiario": part}, {"beneficiario": code}, {"zona": f"zona-{rnd.randint(3, 100):03d}"},
                    {"processo": "percorso4", "versione": str(version)}, {"stato": "error"},
                    {"stato": "running", "zona": f"zona-{rnd.randint(3, 100):03d}"}]
        return [("admin search", "/admin/istanze?" + urlencode(s)) for s in searches]
    step = rnd.choice(client.steps) if client.steps else "Monitoraggio in itinere"
    inbox = [{}, {"scadute": "1"}, {"cerca": part}]
    cases = [{}, {"cerca": part}, {"stato": "aperto"}, {"passo": step}]
    out = [("inbox", "/attivita" + ("?" + urlencode(p) if p else "")) for p in inbox]
    out += [("case list", "/casi" + ("?" + urlencode(p) if p else "")) for p in cases]
    rnd.shuffle(out)
    return out


# -- set-up: cases to complete, timers, tokens -------------------------------------------------------


def seed_cases(rt: Runtime, clients: list[Client], count: int) -> float:
    """Open `count` Percorso 4 cases for the CPI clients (their zones), in-process; returns the seconds taken."""
    completers = [c for c in clients if c.role == "cpi"]
    base = 20_000_000 + (int(time.time()) // 60 % 12_000) * 5_000  # codici fiscali no earlier run used
    started = time.perf_counter()

    def one(n: int) -> tuple[Client, str]:
        client = completers[n % len(completers)]
        actor = Actor(username=client.username, role="cpi", zones=frozenset({client.zone}))
        person = {"codice_fiscale": codice_fiscale(base + n, "Mario", "Carico", date(1980, 1, 1), False),
                  "nome": "Mario", "cognome": "Carico", "data_nascita": "1980-01-01"}
        return client, case_start.open_case(rt, "percorso4", {"zona": client.zone, "beneficiario": person}, actor,
                                            {CF_RULE})

    with ThreadPoolExecutor(4) as pool:
        opened = list(pool.map(one, range(count)))
    with psycopg.connect(_plain(rt.settings.database_url)) as conn:
        for client, instance_id in opened:
            row = conn.execute("SELECT id FROM tasks WHERE instance_id = %s AND element_id = 'profilazione'",
                               (instance_id,)).fetchone()
            if row is None:
                raise RuntimeError(f"case {instance_id} has no profiling task")
            client.tasks.append(str(row[0]))
    return time.perf_counter() - started


def timer_runtime(url: str, zones_dir: Path, var_dir: Path) -> tuple[Runtime, ManualClock]:
    """A runtime whose clock the timer cloning sets; the timer test process deployed (a no-op when it is)."""
    clock = ManualClock(datetime.now(UTC))
    rt = bootstrap(settings(url, zones_dir, var_dir), clock=clock)
    deployment.deploy(rt, operator_sources(DATA / "processes" / "timer_wait.bpmn"), ADMIN)
    return rt, clock


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


# -- the processes: web server, scheduler --------------------------------------------------------------


def free_port() -> int:
    """An ephemeral loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(url: str, zones_dir: Path, var_dir: Path, pooled: bool) -> dict[str, str]:
    """The production environment of the web workers and the scheduler."""
    metrics = var_dir / "metrics"
    metrics.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOL_")}
    env.update(GOL_PRODUCTION="1", GOL_DATABASE_URL=url, GOL_SECRET_KEY="benchmark-secret-" + "x" * 32,
               GOL_VAR_DIR=str(var_dir), GOL_PROCESSES_DIR=str(ROOT / "processes"), GOL_FORMS_DIR=str(ROOT / "forms"),
               GOL_ZONES_DIR=str(zones_dir), GOL_EMBEDDED_SCHEDULER="0", PROMETHEUS_MULTIPROC_DIR=str(metrics),
               PGAPPNAME=APPLICATION)  # libpq names the service's connections: they are counted apart
    if pooled:
        env["GOL_DATABASE_POOLER"] = "transaction"
    return env


@contextmanager
def services(env: dict[str, str], workers: int, var_dir: Path, schedulers: int = 1
             ) -> Iterator[tuple[int, subprocess.Popen[bytes], list[subprocess.Popen[bytes]]]]:
    """gunicorn as the README's production command, and scheduler processes; yields port, server, schedulers."""
    port = free_port()
    log = (var_dir / "services.log").open("wb")
    web = subprocess.Popen([str(GUNICORN), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                            "-c", str(ROOT / "gol_workflow" / "web" / "gunicorn_hooks.py"),
                            "gol_workflow.web.wsgi:create()"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    running = [subprocess.Popen([str(GOL), "scheduler", "--name", f"mixed-load-{n}"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT) for n in range(1, schedulers + 1)]
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                status, *_ = call(port, "GET", "/api/openapi.json", {})
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or web.poll() is not None:
                raise RuntimeError("the web server did not start: " + (var_dir / "services.log").read_text()[-3000:])
            time.sleep(0.3)
        yield port, web, running
    finally:
        for process in (*running, web):
            process.send_signal(signal.SIGTERM)
        for process in (*running, web):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


# -- the clients -------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """Wall times per request kind, cold and warm, app times, errors."""

    cold: dict[str, list[float]] = field(default_factory=dict)
    warm: dict[str, list[float]] = field(default_factory=dict)
    app: dict[str, list[float]] = field(default_factory=dict)
    untimed: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, ms: float, cold: bool, app: float | None) -> None:
        with self.lock:
            (self.cold if cold else self.warm).setdefault(kind, []).append(ms)
            if app is None:
                self.untimed[kind] = self.untimed.get(kind, 0) + 1
            elif not cold:
                self.app.setdefault(kind, []).append(app)

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


def request(port: int, client: Client, kind: str, method: str, path: str, tally: Tally, seen: set[str],
            body: bytes | None = None) -> None:
    """One measured request; anything but 200 is an error."""
    if path.startswith("/api/"):
        headers = {"Authorization": f"Bearer {client.token}", "Content-Type": "application/json"}
    else:
        headers = {"Cookie": client.cookie}
    try:
        status, ms, payload, response = call(port, method, path, headers, body)
    except OSError as exc:
        tally.error(f"{client.username} {method} {path}: {exc!r}")
        return
    if status != 200:
        tally.error(f"{client.username} {method} {path}: {status} {payload[:200]!r}")
        return
    timing = re.search(r"dur=([0-9.]+)", response.getheader("Server-Timing") or "")
    tally.add(kind, ms, kind not in seen, float(timing.group(1)) if timing else None)
    seen.add(kind)


def run_client(port: int, client: Client, version: int, seed: int, stop: threading.Event, tally: Tally,
               start: threading.Barrier, reads_too: bool = True, profile: dict[str, Any] = PROFILE) -> None:
    """A CPI client completes its tasks, with a read after every second completion (unless `reads_too` is
    false); others read until stopped."""
    rnd = random.Random(seed)
    seen: set[str] = set()
    reads: list[tuple[str, str]] = []
    start.wait()
    n = 0
    while not stop.is_set():
        if not reads:
            reads = reads_of(client, rnd, version)
        if client.role == "cpi":
            if not client.tasks:
                return
            task = client.tasks.pop()
            request(port, client, "completion", "POST", f"/api/v1/tasks/{task}/complete", tally, seen,
                    json.dumps({"data": profile}).encode())
            n += 1
            if n % 2 or not reads_too:
                continue
        kind, path = reads.pop()
        request(port, client, kind, "GET", path, tally, seen)


def trickle_timers(rt: Runtime, clock: ManualClock, every: float, lead: float, stop: threading.Event,
                   made: list[str], tally: Tally) -> None:
    """Every `every` seconds, a timer instance due `lead` seconds later, until stopped."""
    while not stop.is_set():
        began = time.monotonic()
        try:
            clone_timers(rt, clock, [datetime.now(UTC) + timedelta(seconds=lead)])
            made.append("one")
        except Exception as exc:  # noqa: BLE001 - reported as an error of the run
            tally.error(f"timer set-up: {exc!r}")
            return
        stop.wait(max(0.0, every - (time.monotonic() - began)))


def catch_up(url: str, limit: float) -> tuple[int, float]:
    """Wait (at most `limit` s) until no instance timer is overdue; returns how many were and how long it took."""
    began = time.monotonic()
    first = None
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        while time.monotonic() - began < limit:
            row = conn.execute("SELECT count(*) FROM instances WHERE next_due_at < now()").fetchone()
            overdue = int(row[0]) if row else 0
            first = overdue if first is None else first
            if overdue == 0:
                break
            time.sleep(1.0)
    return first or 0, time.monotonic() - began


@dataclass
class Timers:
    """What the scheduler did for the run's timers, read from the audit after the run."""

    lateness_ms: list[tuple[datetime, float]]  # (due, ms late) per timer of the run
    fired: int
    others: int  # other timers of the data set fired during the run


def remove_timer_instances(url: str) -> int:
    """Delete the timer test process's instances and their tasks (the run's own writes); returns how many.

    Each one waits at a user task without a zone after its timer fires, and every zone-scoped
    operator's visibility rule reads tasks without a zone: left behind, a burst of them would slow
    the next run's every page. Their audit rows stay.
    """
    with psycopg.connect(_plain(url)) as conn:
        conn.execute("DELETE FROM tasks WHERE process_id = 'timer_wait'")
        conn.execute("DELETE FROM subscriptions WHERE instance_id IN "
                     "(SELECT id FROM instances WHERE process_id = 'timer_wait')")
        removed = conn.execute("DELETE FROM instances WHERE process_id = 'timer_wait'").rowcount
    return int(removed or 0)


def timer_outcome(url: str, since: datetime, until_all: float, last_due: datetime) -> Timers:
    """Wait until no timer instance of the run waits (at most `until_all` s after the last falls due); read lateness."""
    time.sleep(max(0.0, (last_due - datetime.now(UTC)).total_seconds() + 0.1))
    deadline = time.monotonic() + until_all
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        while time.monotonic() < deadline:
            # Due and not fired yet: a short range of the next_due_at index, whatever the data set's size.
            waiting = conn.execute("SELECT count(*) FROM instances WHERE next_due_at < now() "
                                   "AND process_id = 'timer_wait'").fetchone()
            if not waiting or waiting[0] == 0:
                break
            time.sleep(0.5)
        rows = conn.execute(
            "SELECT i.process_id, a.at, a.data::jsonb->>'due_at' FROM audit_events a JOIN instances i ON i.id = a.instance_id "
            "WHERE a.action = 'timer.fired' AND a.at >= %s", (since,)).fetchall()
    late = [(datetime.fromisoformat(due), (at - datetime.fromisoformat(due)).total_seconds() * 1000)
            for process, at, due in rows if process == "timer_wait"]
    return Timers(late, len(late), sum(1 for r in rows if r[0] != "timer_wait"))


# -- the report ---------------------------------------------------------------------------------------------


def pct(values: list[float], q: int) -> float:
    """The q-th percentile (inclusive method); the value itself for one sample."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def load() -> str:
    """The load average (1, 5, 15 minutes)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    """Set up, run the mixed load, print the figures and the targets; non-zero on any error."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("GOL_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--zones-dir", type=Path, default=ROOT / "var" / "national" / "zones")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (the README's command has 4)")
    parser.add_argument("--completions", type=int, default=2000, help="cases opened, then completed in the run")
    parser.add_argument("--timer-every", type=float, default=0.5, help="seconds between timers falling due")
    parser.add_argument("--burst", type=int, default=0, help="timers falling due at one instant during the run")
    parser.add_argument("--pgbouncer", action="store_true", help="web workers and scheduler through PgBouncer")
    parser.add_argument("--schedulers", type=int, default=1, help="`gol-workflow scheduler` processes")
    parser.add_argument("--pool-size", type=int, default=8, help="PgBouncer's server connections (with --pgbouncer)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only-completions", action="store_true",
                        help="eight CPI operators of eight zones only complete (no reads, no timers of the run): "
                             "the completions alone, as an outside client measures them")
    parser.add_argument("--complex-needs", action="store_true",
                        help="the profilings find complex needs: each case goes on to the equipe (a meeting booked, "
                             "a letter issued) instead of closing at profiling")
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="gol-mixed-"))
    clients = [Client(username, role) for username, role in (COMPLETERS if args.only_completions else CLIENTS)]
    targets = {"completion": TARGETS["completion"]} if args.only_completions else TARGETS
    facts = describe(args.postgres, clients, args.seed)
    rt = bootstrap(settings(args.postgres, args.zones_dir, var_dir))
    for client in clients:
        if client.role != "admin":
            client.token = tokens.issue_token(rt, client.username, ADMIN, "mixed load benchmark").secret
    print(f"Mixed load on database {args.postgres.rsplit('/', 1)[1]} (written to: cases, timers, tokens): "
          f"{facts['cases']:,} cases ({facts['open']:,} open), about {facts['instances']:,} instances, "
          f"schema {facts['revision']}, PostgreSQL {facts['server']}; {os.cpu_count()} CPUs, load average before "
          f"{load()}", flush=True)
    seeded = seed_cases(rt, clients, args.completions)
    rt.db.dispose()  # the set-up's connections are closed before the run
    print(f"set-up: {args.completions:,} Percorso 4 cases opened in-process for the CPI clients in {seeded:.0f} s "
          f"(not measured)", flush=True)
    trt, clock = timer_runtime(args.postgres, args.zones_dir, var_dir)
    tally = Tally()
    crashes_count_as_errors(tally.errors)
    stop, stop_timers = threading.Event(), threading.Event()
    made: list[str] = []
    with ExitStack() as stack:
        app_url = args.postgres
        seen = stack.enter_context(ServerConnections(args.postgres, application=APPLICATION))
        if args.pgbouncer:
            app_url = stack.enter_context(pgbouncer(args.postgres, args.pool_size))
        port, web, schedulers = stack.enter_context(
            services(environment(app_url, args.zones_dir, var_dir, args.pgbouncer), args.workers, var_dir,
                     args.schedulers))
        for client in clients:
            login(port, client)
        backlog, caught_up = catch_up(args.postgres, 240.0)
        print(f"before the run the scheduler caught up what the data set had overdue: {backlog:,} instance timers "
              f"in {caught_up:.0f} s (not measured)", flush=True)
        print(f"gunicorn --workers {args.workers} -c gol_workflow/web/gunicorn_hooks.py (sync workers, the README's "
              f"production command) and {args.schedulers} scheduler process(es){' through PgBouncer (transaction pooling, pool_size ' + str(args.pool_size) + ')' if args.pgbouncer else ', straight to PostgreSQL'}; "
              f"8 clients, a new connection per request: "
              + ", ".join(f"{c.username} ({c.role}, {c.zone})" if c.role != "admin" else c.username for c in clients),
              flush=True)
        since = datetime.now(UTC)
        burst_due = None
        if args.burst:
            burst_due = datetime.now(UTC) + timedelta(seconds=15)
            cloned = clone_timers(trt, clock, [burst_due] * args.burst)
            print(f"{args.burst:,} timers cloned to fall due at one instant, 15 s after the run starts "
                  f"({cloned:.1f} s to clone)", flush=True)
        start = threading.Barrier(len(clients) + 1)
        threads = [threading.Thread(target=run_client, args=(port, c, int(facts["version"] or 1), args.seed + i, stop,
                                                              tally, start, not args.only_completions,
                                                              PROFILE_COMPLEX if args.complex_needs else PROFILE))
                   for i, c in enumerate(clients)]
        timer_thread = threading.Thread(target=trickle_timers, args=(trt, clock, args.timer_every, 2.0, stop_timers,
                                                                     made, tally))
        for thread in threads:
            thread.start()
        before = cpu_snapshot(web.pid, app_url if not args.pgbouncer else args.postgres)
        scheduler_before = sum(_cpu_of(p.pid) for p in schedulers)
        start.wait()
        began = time.perf_counter()
        if not args.only_completions:
            timer_thread.start()
        completers = [t for t, c in zip(threads, clients, strict=True) if c.role == "cpi"]
        for thread in completers:
            thread.join()
        seconds = time.perf_counter() - began
        stop.set()
        stop_timers.set()
        for thread in threads:
            thread.join()
        if not args.only_completions:
            timer_thread.join()
        cpu = cpu_spent(before, cpu_snapshot(web.pid, app_url if not args.pgbouncer else args.postgres))
        scheduler_cpu = sum(_cpu_of(p.pid) for p in schedulers) - scheduler_before
        last_due = max(datetime.now(UTC) + timedelta(seconds=2.0), burst_due or since)
        timers = timer_outcome(args.postgres, since, 60.0, last_due) if not args.only_completions else None
        if timers is not None:
            print(f"the timer test instances removed after the run: {remove_timer_instances(args.postgres):,}")
    trt.db.dispose()
    load_after = load()
    completions = tally.warm.get("completion", []) + tally.cold.get("completion", [])
    reads = sum(len(v) for k, v in tally.warm.items() if k != "completion") + sum(
        len(v) for k, v in tally.cold.items() if k != "completion")
    rate = len(completions) / seconds
    completers = sum(1 for c in clients if c.role == "cpi")
    print(f"{len(completions):,} completions in {seconds:.1f} s: {rate:.1f}/s, while {reads:,} reads ran "
          f"({reads / seconds:.1f}/s); load average after {load_after}")
    if completions:
        print(f"(a closed loop: {completers} completing clients each wait for every answer, a completion taking "
              f"{statistics.mean(completions):.0f} ms on average: {completers} / that = "
              f"{1000 * completers / statistics.mean(completions):.0f}/s at most, their reads aside)")
    total = len(completions) + reads
    print(f"CPU meanwhile: gunicorn workers {cpu['app']:.1f} s, PostgreSQL backends {cpu['db']:.1f} s, scheduler "
          f"{scheduler_cpu:.1f} s over {seconds:.0f} s of {os.cpu_count()} CPUs: "
          f"{1000 * (cpu['app'] + cpu['db']) / max(1, total):.1f} ms per request on average")
    print(f"server connections of the web workers and the scheduler at most: {seen.most}"
          + (f" (PgBouncer pool_size {args.pool_size})" if args.pgbouncer else " (no pooler: each worker's own pool)"))
    print("Wall time as the client saw it (ms); app = the app's own time (Server-Timing), warm.")
    print("| request | n | p50 | p95 | p99 | app p50 | app p95 | cold n | cold p50 | cold max | target p95 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    verdicts: dict[str, bool] = {}
    for kind, target in targets.items():
        warm, cold, app = tally.warm.get(kind, []), tally.cold.get(kind, []), tally.app.get(kind, [])
        if not warm:
            tally.error(f"no {kind} request was measured")
            continue
        met = pct(warm, 95) <= target and (kind != "completion" or rate >= TARGET_RATE)
        verdicts[kind] = met
        goal = f"<= {target:.0f} ms" + (f", >= {TARGET_RATE:.0f}/s" if kind == "completion" else "")
        print(f"| {kind} | {len(warm)} | {pct(warm, 50):.1f} | {pct(warm, 95):.1f} | {pct(warm, 99):.1f} | "
              f"{pct(app, 50):.1f} | {pct(app, 95):.1f} | {len(cold)} | {pct(cold, 50):.1f} | "
              f"{max(cold) if cold else float('nan'):.1f} | {goal}: {'met' if met else 'MISSED'} |")
    for kind, count in sorted(tally.untimed.items()):
        if kind != "completion":
            print(f"{count} {kind} responses had no Server-Timing header (left out of the app figures)")
    if timers is None:
        return finish(tally, verdicts)
    trickled = len(made)
    expected = trickled + args.burst
    if timers.fired < expected:
        tally.error(f"{expected - timers.fired} of {expected} timers did not fire within 60 s of the run's end")
    single = [ms for due, ms in timers.lateness_ms if due != burst_due]
    burst = [ms for due, ms in timers.lateness_ms if due == burst_due]
    print(f"timers: {trickled} fell due one every {args.timer_every:g} s during the load"
          f"{f' and {args.burst:,} at one instant' if args.burst else ''}; {timers.fired:,} fired "
          f"(and {timers.others:,} other timers of the data set fired meanwhile)")
    if single:
        p99 = pct(single, 99)
        verdicts["timer lateness"] = p99 <= TARGET_LATENESS_MS
        print(f"single timers' lateness: p50 {pct(single, 50):.0f} ms, p99 {p99:.0f} ms, max {max(single):.0f} ms "
              f"(target p99 <= {TARGET_LATENESS_MS:.0f} ms: {'met' if p99 <= TARGET_LATENESS_MS else 'MISSED'})")
    if args.burst and burst:
        last = max(burst) / 1000
        verdicts["burst"] = last <= TARGET_BURST_S and len(burst) == args.burst
        print(f"burst: {len(burst):,} of {args.burst:,} fired, the last {last:.1f} s after they fell due "
              f"(target all <= {TARGET_BURST_S:.0f} s: {'met' if verdicts['burst'] else 'MISSED'})")
    return finish(tally, verdicts)


def finish(tally: Tally, verdicts: dict[str, bool]) -> int:
    """Print the errors or the targets' verdicts; the exit status (1 on any error)."""
    if tally.errors:
        print(f"{len(tally.errors)} errors: the run FAILED; e.g.: " + "; ".join(tally.errors[:5]))
        return 1
    missed = [k for k, ok in verdicts.items() if not ok]
    print("targets: " + ("all met" if not missed else "MISSED for " + ", ".join(missed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Server time of the operator inbox page with 100,000 instances against 1,000, on PostgreSQL.

For each size the database is filled in bulk with COPY (10 % active cases with a ready task
in the inbox, the rest completed with their audit history), the web service runs on
gunicorn with the production WSGI entry (one sync worker per core, then 2 workers x 4
threads as `gol-workflow serve` runs it), and 8 concurrent clients, each logged in as a
CPI operator, load the inbox page (first page, a zone filter, sorted by due date, a later
page, a queue, a name search). Server time is the app's own `Server-Timing` figure (from
the start of the request in the app to the response); wall time is what the client saw,
including waiting for a free worker. Targets: p95 <= 50 ms at 100,000 instances and p95(100k)/p95(1k) <= 1.5.

    .venv/bin/python benchmarks/inbox.py [--postgres URL] [--requests 300] [--clients 8]
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
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scratch_db import ensure_database, reset  # noqa: E402
from gol_workflow.bootstrap import bootstrap  # noqa: E402
from gol_workflow.config import Settings  # noqa: E402
from gol_workflow.domain.model import Actor  # noqa: E402
from gol_workflow.forms.codice_fiscale import check_character  # noqa: E402
from gol_workflow.persistence import schema  # noqa: E402
from gol_workflow.services.administration import deployment  # noqa: E402
from gol_workflow.services.access import users  # noqa: E402

ADMIN = Actor(username="bench", role="admin")
PASSWORD = "benchmark-password"
ZONES = ("pistoiese", "valdinievole")
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/gol_bench_inbox"
TASKS = (("profilazione", "Profilazione e assessment", "CPI"),
         ("prenota_primo_appuntamento", "Prenotare il primo appuntamento con il case manager", "CPI"),
         ("scheda_esito", "Scheda di esito", "Equipe multidisciplinare"),
         ("monitoraggio_finale", "Monitoraggio finale", "CPI"),
         ("primo_colloquio", "Primo colloquio con il case manager", "ATS"))
NAMES = ("Lucia", "Marco", "Anna", "Paolo", "Sara", "Giulia", "Luca", "Elena", "Davide", "Chiara")
SURNAMES = ("Bianchi", "Rossi", "Verdi", "Neri", "Gialli", "Conti", "Bardi", "Lenzi", "Fedi", "Nesti")
STATE = json.dumps({"data": {"note": "x" * 2500}, "tasks": {}})  # a state column of realistic width


def settings(url: str, var_dir: Path) -> Settings:
    """Service settings for the benchmark database."""
    return Settings(database_url=url, processes_dir=ROOT / "processes", forms_dir=ROOT / "forms",
                    zones_dir=ROOT / "zones", var_dir=var_dir, secret_key="benchmark-secret", embedded_scheduler=False)


def prepare(url: str, var_dir: Path) -> int:
    """Deploy the processes and create the operator accounts; returns the percorso4 version id."""
    rt = bootstrap(settings(url, var_dir))
    deployment.deploy(rt, deployment.read_sources(ROOT / "processes", ROOT / "forms"), ADMIN)
    users.add_user(rt, "cpi.bench", "cpi", ADMIN, ["pistoiese"], password=PASSWORD, full_name="CPI Pistoia")
    users.add_user(rt, "ats.bench", "ats", ADMIN, ["pistoiese"], password=PASSWORD, full_name="Case manager")
    with rt.uow(write=False) as uow:
        version_id = int(uow.versions.latest("percorso4")["id"])
    rt.db.dispose()
    return version_id


def fill(url: str, total: int, version_id: int, seed: int = 7) -> float:
    """Bulk-load `total` instances (10 % active with a ready task) and their audit history; returns seconds."""
    clock = time.perf_counter()
    rnd = random.Random(seed)
    active = total // 10
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        rows_instances, rows_tasks, rows_audit = [], [], []
        for index in range(total):
            case_id = str(uuid.UUID(int=rnd.getrandbits(128)))
            zone = ZONES[index % 2]
            name = f"{rnd.choice(NAMES)} {rnd.choice(SURNAMES)}"
            first15 = f"{''.join(rnd.choice('BCDFGLMNPRSTVZ') for _ in range(6))}{rnd.randint(50, 99)}A{rnd.randint(10, 28)}G713"
            code = first15 + check_character(first15)
            started = NOW - timedelta(days=rnd.randint(1, 700), minutes=rnd.randint(0, 1440))
            is_active = index < active
            element, task_name, lane = TASKS[index % len(TASKS)]
            manager = "ats.bench" if lane == "ATS" and zone == "pistoiese" else "cm.altro"
            rows_instances.append((case_id, version_id, "percorso4", "running" if is_active else "completed", 3,
                                   STATE, zone, name, code, manager, "[]", task_name if is_active else None, 0,
                                   "cpi.bench", started, started, None if is_active else started + timedelta(days=365)))
            if is_active:
                created = NOW - timedelta(days=rnd.randint(0, 60), minutes=rnd.randint(0, 1440))
                rows_tasks.append((str(uuid.UUID(int=rnd.getrandbits(128))), case_id, "percorso4", element, task_name,
                                   lane, f"{element}.schema.json", zone, case_id, name, code, created,
                                   created + timedelta(days=7), "cpi.bench" if index % 13 == 0 else None))
            for step, action in enumerate(("instance.started", "task.completed", "message.delivered",
                                           "task.completed", "timer.fired", "task.completed")):
                rows_audit.append((started + timedelta(days=step * 30), "cpi.bench", action, case_id,
                                   json.dumps({"task": task_name})))
        _copy(cur, "instances (id, process_version_id, process_id, status, row_version, state, zone, beneficiary_name, "
                   "codice_fiscale, case_manager, specialist_services, current_step, retry_count, started_by, "
                   "started_at, updated_at, ended_at)", rows_instances)
        _copy(cur, "tasks (id, instance_id, process_id, element_id, name, lane, form, zone, case_id, beneficiary_name, "
                   "codice_fiscale, created_at, due_at, assignee)", rows_tasks)
        _copy(cur, "audit_events (at, actor, action, instance_id, data)", rows_audit)
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE")  # what autovacuum does on a live database
    return time.perf_counter() - clock


def _copy(cur: psycopg.Cursor, target: str, rows: list[tuple]) -> None:
    with cur.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, var_dir: Path, workers: int, threads: int) -> tuple[subprocess.Popen, int]:
    """gunicorn with the production WSGI entry."""
    port = free_port()
    env = {**os.environ, "GOL_DATABASE_URL": url, "GOL_SECRET_KEY": "benchmark-secret", "GOL_VAR_DIR": str(var_dir),
           "GOL_PROCESSES_DIR": str(ROOT / "processes"), "GOL_FORMS_DIR": str(ROOT / "forms"),
           "GOL_ZONES_DIR": str(ROOT / "zones"), "GOL_EMBEDDED_SCHEDULER": "0"}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    kind = "gthread" if threads > 1 else "sync"
    process = subprocess.Popen([str(gunicorn), "-w", str(workers), "--threads", str(threads), "-k", kind,
                                "-b", f"127.0.0.1:{port}",
                                "--log-level", "warning", "gol_workflow.web.wsgi:create()"], cwd=ROOT, env=env)
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the web server did not start")


class Client:
    """One logged-in operator with a keep-alive connection."""

    def __init__(self, port: int, username: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""
        page = self.request("GET", "/accesso")[2]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        body = urlencode({"csrf_token": token, "username": username, "password": PASSWORD})
        status, _, _ = self.request("POST", "/accesso", body, {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302, f"login failed: {status}"

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None) -> tuple[int, float, str]:
        all_headers = {"Cookie": self.cookie, **(headers or {})}
        self.conn.request(method, path, body=body, headers=all_headers)
        response = self.conn.getresponse()
        text = response.read().decode()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("gol_sessione="):
                self.cookie = value.split(";", 1)[0]
        timing = response.getheader("Server-Timing") or "app;dur=0"
        return response.status, float(timing.split("dur=")[1]), text


PATHS = ("/attivita", "/attivita", "/attivita", "/attivita?zona=pistoiese", "/attivita?ordina=scadenza",
         "/attivita?pagina=3", "/attivita?coda=libere", "/attivita?cerca=Rossi")


def load(port: int, clients: int, requests: int, username: str) -> tuple[list[float], list[float]]:
    """`clients` threads each send `requests` inbox requests; returns server and wall times in ms."""
    server: list[float] = []
    wall: list[float] = []
    lock = threading.Lock()

    def work(seed: int) -> None:
        client = Client(port, username)
        for path in PATHS * 2:  # warm-up: caches, connections, compiled templates
            client.request("GET", path)
        mine_server, mine_wall = [], []
        for index in range(requests):
            started = time.perf_counter()
            status, dur, _ = client.request("GET", PATHS[(index + seed) % len(PATHS)])
            assert status == 200, status
            mine_wall.append((time.perf_counter() - started) * 1000)
            mine_server.append(dur)
        with lock:
            server.extend(mine_server)
            wall.extend(mine_wall)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return server, wall


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


SERVERS = ((2, 1), (2, 4))  # (workers, threads): one sync worker per core; and `gol-workflow serve`'s default


def run_size(url: str, total: int, clients: int, requests: int) -> dict[tuple[int, int], float]:
    """Fill the database with `total` instances and measure each server configuration; returns p95 per config."""
    var_dir = Path(tempfile.mkdtemp(prefix="gol-bench-"))
    reset(url)
    version_id = prepare(url, var_dir)
    seconds = fill(url, total, version_id)
    print(f"{total:>7} instances ({total // 10} ready tasks in the inbox) filled in {seconds:.1f} s", flush=True)
    p95s = {}
    for workers, threads in SERVERS:
        process, port = start_server(url, var_dir, workers, threads)
        try:
            server, wall = load(port, clients, requests, "cpi.bench")
        finally:
            process.terminate()
            process.wait(timeout=30)
        p95s[(workers, threads)] = pct(server, 95)
        print(f"    gunicorn {workers} workers x {threads} thread(s): server time p50 {pct(server, 50):5.1f} ms, "
              f"p95 {pct(server, 95):5.1f} ms; wall p50 {pct(wall, 50):5.1f} ms, p95 {pct(wall, 95):5.1f} ms "
              f"({len(server)} requests, {clients} clients)", flush=True)
    return p95s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("GOL_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--requests", type=int, default=300, help="requests per client")
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    ensure_database(args.postgres)
    small = run_size(args.postgres, 1_000, args.clients, args.requests)
    large = run_size(args.postgres, 100_000, args.clients, args.requests)
    for config in SERVERS:
        ratio = large[config] / small[config]
        print(f"{config[0]} workers x {config[1]} thread(s): p95(100k) = {large[config]:.1f} ms "
              f"(target <= 50 ms: {'met' if large[config] <= 50 else 'MISSED'}); p95(100k)/p95(1k) = {ratio:.2f} "
              f"(target <= 1.5: {'met' if ratio <= 1.5 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

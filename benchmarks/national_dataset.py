"""A national-scale data set in PostgreSQL: 1,000,000 Percorso 4 cases over 100 zones and 5 years.

About 10 % of the cases are open (at every step of the path: profiling, the equipe, the first
appointment, the project, monitorings, revisions), the rest closed with their full history. Each
case is a copy of a real case: the analysts' scenarios (processes/scenarios) run through the
service first, and every step's rows are kept (national_templates.py): the instance with its
serialised workflow state, the case record, tasks, timers (`next_due_at`), the equipe meetings
and agenda items, attachments' metadata (the files' bytes are not copied: downloads are empty),
bookings, message subscriptions, audit rows and the key that seals the case's audit data (each
copy keeps its template's key, so its sealed rows open). The copies get their own ids, names, codici
fiscali, zones, operators and dates (shifted by whole weeks, so that meetings stay on the
zones' meeting day, plus a few hours); inside the serialised states the ids, names, codici
fiscali, zone and case manager are replaced, the dates stay those of the scenario.

The schema comes from the project's migrations (`gol-workflow db upgrade`). Loading is in bulk:
the cases' own facts are COPYed into a staging table, then the server builds every table with
INSERT ... SELECT from the staging table and the templates, with the secondary indexes and
foreign keys dropped and rebuilt afterwards (what a restore does), then VACUUM ANALYZE. The
zones are written as zone files (two from zones/, the others generated) in --zones-dir: the web
service reads them with GOL_ZONES_DIR. Operators per zone: cpi.<zone>, sds.<zone>,
spec.<zone> (specialist, salute mentale), cm.<zone>.1-5 (ATS case managers); password
`benchmark-password`; an administrator `bench.admin`.

    .venv/bin/python benchmarks/national_dataset.py --postgres URL [--cases 1000000] [--zones 100]
        [--years 5] [--open-share 0.10] [--zones-dir var/national/zones] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.national_templates import Snapshot, capture  # noqa: E402
from benchmarks.scratch_db import ensure_database  # noqa: E402
from gol_workflow.bootstrap import bootstrap  # noqa: E402
from gol_workflow.config import Settings  # noqa: E402
from gol_workflow.domain.model import Actor  # noqa: E402
from gol_workflow.forms.codice_fiscale import check_character  # noqa: E402
from gol_workflow.persistence import tables  # noqa: E402
from gol_workflow.persistence.types import JsonText, UtcDateTime, dump_json  # noqa: E402
from gol_workflow.services.access import users  # noqa: E402
from gol_workflow.services.administration import deployment  # noqa: E402

ADMIN = Actor(username="bench.admin", role="admin")
PASSWORD = "benchmark-password"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/gol_national"
CASE_MANAGERS = 5  # per zone
GEN = "national_gen"  # the staging schema, dropped at the end
FIRST = ("Lucia", "Marco", "Anna", "Paolo", "Sara", "Giulia", "Luca", "Elena", "Davide", "Chiara", "Matteo",
         "Francesca", "Andrea", "Valentina", "Stefano", "Martina", "Simone", "Federica", "Giorgio", "Alessia",
         "Roberto", "Silvia", "Antonio", "Laura", "Giuseppe", "Marta", "Fabio", "Ilaria", "Emanuele", "Beatrice")
LAST = ("Bianchi", "Rossi", "Verdi", "Neri", "Conti", "Bardi", "Lenzi", "Fedi", "Nesti", "Russo", "Ferrari",
        "Esposito", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Costa", "Giordano",
        "Mancini", "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi",
        "Caruso", "Ferrara", "Galli", "Martini", "Leone", "Longo", "Gentile", "Martinelli", "Vitale", "Serra",
        "Coppola", "De Santis", "D'Angelo", "Marchetti", "Parisi", "Villa", "Conte", "Ferraro", "Ferri", "Fabbri")
SERVICES = ("salute_mentale", "dipendenze", "disabilita")
# Tables a case's rows go into; their secondary indexes and foreign keys are rebuilt after loading.
TARGETS = ("instances", "cases", "tasks", "audit_events", "attachments", "bookings", "subscriptions",
           "meetings", "meeting_agenda")
CONSONANTS = "BCDFGHLMNPRSTVZ"
MONTHS = "ABCDEHLMPRST"


# -- zones and operators ---------------------------------------------------------------------


def zone_ids(count: int) -> list[str]:
    """The two zones of zones/ and generated ones (zona-003 ...)."""
    return ["pistoiese", "valdinievole", *(f"zona-{n:03d}" for n in range(3, count + 1))][:count]


def write_zones(folder: Path, ids: list[str]) -> None:
    """One zone file per zone: the shipped ones as they are, the others modelled on the Pistoiese one."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.toml"):
        old.unlink()
    model = (ROOT / "zones" / "pistoiese.toml").read_text(encoding="utf-8")
    for zone in ids:
        shipped = ROOT / "zones" / f"{zone}.toml"
        if shipped.exists():
            (folder / shipped.name).write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
            continue
        number = zone.rsplit("-", 1)[1]
        text = (model.replace('id = "pistoiese"', f'id = "{zone}"')
                .replace("Zona Distretto Pistoiese", f"Zona Distretto {number}")
                .replace("SdS Pistoiese", f"SdS Zona {number}")
                .replace("sds-pistoiese", f"sds-zona{number}")
                .replace("ufsma.pistoiese", f"ufsma.zona{number}").replace("serd.pistoiese", f"serd.zona{number}")
                .replace("disabilita.pistoiese", f"disabilita.zona{number}")
                .replace("Centro per l'impiego di Pistoia", f"Centro per l'impiego della zona {number}")
                .replace("cpi.pistoia@", f"cpi.zona{number}@"))
        tomllib.loads(text)
        (folder / f"{zone}.toml").write_text(text, encoding="utf-8")


def operators(zones: list[str]) -> list[tuple[str, str, str, list[str], list[str]]]:
    """(username, full name, role, zones, services) of every operator of the data set."""
    rnd = random.Random(11)
    found = []
    for zone in zones:
        def name() -> str:
            return f"{rnd.choice(FIRST)} {rnd.choice(LAST)}"
        found.append((f"cpi.{zone}", name(), "cpi", [zone], []))
        found.append((f"sds.{zone}", name(), "sds", [zone], []))
        found.append((f"spec.{zone}", name(), "specialist", [zone], ["salute_mentale"]))
        found.extend((f"cm.{zone}.{k}", name(), "ats", [zone], []) for k in range(1, CASE_MANAGERS + 1))
    return found


# -- the service's own set-up --------------------------------------------------------------------


def reset_and_migrate(url: str) -> None:
    """An empty database brought to the current schema by `gol-workflow db upgrade`."""
    ensure_database(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute(f"DROP SCHEMA IF EXISTS {GEN} CASCADE")
        conn.execute("CREATE SCHEMA public")
    env = {**os.environ, "GOL_DATABASE_URL": url, "GOL_SECRET_KEY": "benchmark-secret"}
    command = [str(Path(sys.executable).parent / "gol-workflow"), "db", "upgrade"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def settings(url: str, zones_dir: Path, var_dir: Path) -> Settings:
    """The service's settings for the data set (the web benchmark passes the same through the environment)."""
    return Settings(database_url=url, processes_dir=ROOT / "processes", forms_dir=ROOT / "forms",
                    zones_dir=zones_dir, var_dir=var_dir, secret_key="benchmark-secret", embedded_scheduler=False)


def deploy_and_users(url: str, zones_dir: Path, var_dir: Path, zones: list[str]) -> dict[str, int]:
    """Deploy the processes, add the administrator and every operator; returns process id -> version id."""
    rt = bootstrap(settings(url, zones_dir, var_dir))
    deployment.deploy(rt, deployment.read_sources(ROOT / "processes", ROOT / "forms"), ADMIN)
    users.add_user(rt, ADMIN.username, "admin", ADMIN, [], password=PASSWORD, full_name="Amministratore")
    rt.db.dispose()
    with psycopg.connect(url) as conn:
        hashed = conn.execute("SELECT password_hash FROM users WHERE username = %s", (ADMIN.username,)).fetchone()[0]
        now = datetime.now(UTC)
        with conn.cursor().copy("COPY users (username, full_name, email, password_hash, role, zones, services, "
                                "active, failed_logins, created_at, notifications) FROM STDIN") as copy:
            for username, full_name, role, user_zones, services in operators(zones):
                copy.write_row((username, full_name, f"{username}@example.it", hashed, role, json.dumps(user_zones),
                                json.dumps(services), True, 0, now, "none"))
        versions = dict(conn.execute("SELECT process_id, max(id) FROM process_versions GROUP BY process_id").fetchall())
    return versions


# -- templates ---------------------------------------------------------------------------------


def _person(shot: Snapshot) -> dict[str, str]:
    person = shot.start_data["beneficiario"]
    return {"cf": person["codice_fiscale"], "first": person["nome"], "last": person["cognome"]}


def choose(shots: list[Snapshot]) -> tuple[list[Snapshot], list[Snapshot]]:
    """Closed templates (each scenario's end, when the case is over) and open ones (every other step)."""
    closed, open_ = [], []
    last_of = {s.scenario: s for s in shots}
    seen: set[tuple[str, int]] = set()
    for shot in shots:
        if shot.status in ("completed", "terminated"):
            if last_of[shot.scenario] is shot:
                closed.append(shot)
            continue
        own_tasks = shot.rows["tasks"]
        key = (shot.scenario, len(shot.rows["audit_events"]))  # the same case twice (an expect between) once
        if len(own_tasks) <= 1 and key not in seen:
            seen.add(key)
            open_.append(shot)
    return closed, open_


def _column_values(table: Any, row: dict[str, Any]) -> list[Any]:
    out = []
    for column in table.c:
        value = row.get(column.name)
        if isinstance(column.type, JsonText) and value is not None:
            value = dump_json(value)
        out.append(value)
    return out


def load_templates(conn: psycopg.Connection, shots: list[Snapshot], kinds: list[str]) -> None:
    """The staging schema: one template table per target table, the templates' rows with their number."""
    conn.execute(f"CREATE SCHEMA {GEN}")
    for name in ("instances", "cases", "tasks", "audit_events", "attachments", "bookings", "subscriptions",
                 "meeting_agenda", "meetings", "subject_keys"):
        conn.execute(f"CREATE UNLOGGED TABLE {GEN}.tpl_{name} (LIKE public.{name})")
        conn.execute(f"ALTER TABLE {GEN}.tpl_{name} ADD COLUMN tpl int NOT NULL")
    conn.execute(f"CREATE UNLOGGED TABLE {GEN}.tpl_meeting_instances (LIKE public.instances)")
    conn.execute(f"ALTER TABLE {GEN}.tpl_meeting_instances ADD COLUMN tpl int NOT NULL")
    conn.execute(f"CREATE UNLOGGED TABLE {GEN}.tpl_equipe_tasks (LIKE public.tasks)")
    conn.execute(f"ALTER TABLE {GEN}.tpl_equipe_tasks ADD COLUMN tpl int NOT NULL, ADD COLUMN meeting_id text")
    for name in ("instances", "meeting_instances"):  # read whole for each copy: not compressed
        conn.execute(f"ALTER TABLE {GEN}.tpl_{name} ALTER COLUMN state SET STORAGE EXTERNAL")
    conn.execute(f"CREATE INDEX ON {GEN}.tpl_audit_events (tpl, id)")
    conn.execute(f"""CREATE UNLOGGED TABLE {GEN}.tpl_meta (tpl int PRIMARY KEY, kind text, scenario text, step int,
        case_id text, cf text, first text, last text, zone text, cm text, open_task text, opened_at timestamptz,
        as_of timestamptz)""")
    with conn.cursor() as cur:
        for tpl, (shot, kind) in enumerate(zip(shots, kinds, strict=True)):
            person = _person(shot)
            instance = shot.rows["instances"][0]
            times = [r[c] for rows in shot.rows.values() for r in rows for c in r
                     if isinstance(r[c], datetime) and c not in ("next_due_at", "due_at", "path_end_at", "slot_at",
                                                                 "first_appointment_at")]
            open_task = shot.rows["tasks"][0]["id"] if shot.rows["tasks"] else None
            cur.execute(f"INSERT INTO {GEN}.tpl_meta VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        (tpl, kind, shot.scenario, shot.step, shot.case_id, person["cf"], person["first"],
                         person["last"], instance["zone"], instance["case_manager"] or "", open_task,
                         instance["started_at"], max(times)))
            for name, rows in shot.rows.items():
                _copy_rows(cur, f"tpl_{name}", tables.metadata.tables[name], rows, [tpl])
            _copy_rows(cur, "tpl_meetings", tables.meetings, shot.meetings, [tpl])
            _copy_rows(cur, "tpl_meeting_instances", tables.instances, shot.meeting_instances, [tpl])
            by_instance = {m["instance_id"]: m["id"] for m in shot.meetings}
            for task in shot.equipe_tasks:
                _copy_rows(cur, "tpl_equipe_tasks", tables.tasks, [task], [tpl, by_instance[task["instance_id"]]])
    conn.commit()


def _copy_rows(cur: psycopg.Cursor, target: str, table: Any, rows: list[dict[str, Any]], extra: list[Any]) -> None:
    if not rows:
        return
    names = ", ".join([*(c.name for c in table.c), "tpl", *(["meeting_id"] if len(extra) > 1 else [])])
    with cur.copy(f"COPY {GEN}.{target} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([*_column_values(table, row), *extra])


# -- the cases -----------------------------------------------------------------------------------


def codice_fiscale(n: int, first: str, last: str, born: date, female: bool) -> str:
    """A well-formed codice fiscale, unique for each n (the letters encode n)."""
    letters, rest = [], n
    for _ in range(6):
        rest, digit = divmod(rest, len(CONSONANTS))
        letters.append(CONSONANTS[digit])
    day = born.day + (40 if female else 0)
    first15 = f"{''.join(letters)}{born.year % 100:02d}{MONTHS[born.month - 1]}{day:02d}G713"
    return first15 + check_character(first15)


def staging_rows(total: int, zones: list[str], shots: list[Snapshot], kinds: list[str], now: datetime, years: int,
                 open_share: float, seed: int) -> Iterable[tuple[Any, ...]]:
    """One row per case: its template, identity, zone, operators and time shift; in the order cases were opened."""
    rnd = random.Random(seed)
    closed = [i for i, k in enumerate(kinds) if k == "closed"]
    opened = [i for i, k in enumerate(kinds) if k == "open"]
    begin = now - timedelta(days=365 * years)
    meta = []
    for shot in shots:
        started = shot.rows["instances"][0]["started_at"]
        times = [r[c] for rows in shot.rows.values() for r in rows for c in r
                 if isinstance(r[c], datetime) and c not in ("next_due_at", "due_at", "path_end_at", "slot_at",
                                                             "first_appointment_at")]
        meta.append((started, max(times)))
    week = timedelta(days=7)
    planned = []
    open_count = round(total * open_share)
    for index in range(total):
        is_open = index < open_count
        tpl = rnd.choice(opened if is_open else closed)
        started, as_of = meta[tpl]
        if is_open:  # the snapshot's moment falls in the last few weeks
            target = now - timedelta(days=rnd.uniform(1, 28)) - (as_of - started)
        else:  # opened any time in the years, closed before now
            latest = now - (as_of - started) - timedelta(days=2)
            target = begin + (latest - begin) * rnd.random()
        weeks = (target - started) // week
        planned.append((started + weeks * week, tpl, weeks))
    planned.sort()
    z = len(zones)
    for n, (_, tpl, weeks) in enumerate(planned):
        zone = zones[n % z]
        cm = (n // z) % CASE_MANAGERS + 1
        jitter = ((n // (z * CASE_MANAGERS)) % 3000) * 7  # seconds; unique per case manager (bookings' slots)
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        female = first.endswith("a") and first != "Luca" and first != "Andrea"
        born = date(1960, 1, 1) + timedelta(days=rnd.randint(0, 365 * 45))
        services = dump_json([rnd.choice(SERVICES)]) if rnd.random() < 0.15 else "[]"
        yield (n, str(uuid.UUID(int=rnd.getrandbits(128), version=4)), tpl, zone, first, last,
               codice_fiscale(n, first, last, born, female), born, weeks * 7, jitter,
               f"cpi.{zone}", f"sds.{zone}", f"cm.{zone}.{cm}", services)


def load_staging(conn: psycopg.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
    """COPY the cases' own facts; each gets its shift (whole weeks for meetings, plus seconds for the rest)."""
    conn.execute(f"""CREATE UNLOGGED TABLE {GEN}.gen_case (n int PRIMARY KEY, id text, tpl int, zone text,
        first text, last text, cf text, birth date, days int, jitter int, cpi text, sds text, cm text,
        services text)""")
    with conn.cursor().copy(f"COPY {GEN}.gen_case FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    conn.execute(f"""ALTER TABLE {GEN}.gen_case ADD COLUMN mshift interval, ADD COLUMN shift interval""")
    conn.execute(f"""UPDATE {GEN}.gen_case SET mshift = days * interval '1 day',
        shift = days * interval '1 day' + jitter * interval '1 second'""")
    conn.execute(f"ANALYZE {GEN}.gen_case")
    conn.commit()


FUNCTIONS = f"""
CREATE FUNCTION {GEN}.swap(s text, m {GEN}.tpl_meta, g {GEN}.gen_case) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT replace(replace(replace(replace(replace(replace(replace(s,
    m.case_id, g.id), m.cf, g.cf),
    '"nome":"' || m.first || '"', '"nome":"' || g.first || '"'),
    '"cognome":"' || m.last || '"', '"cognome":"' || g.last || '"'),
    m.zone, g.zone), m.cm, CASE WHEN m.cm = '' THEN '' ELSE g.cm END),
    coalesce(m.open_task, ''), CASE WHEN m.open_task IS NULL THEN '' ELSE md5(g.id || m.open_task)::uuid::text END)
$$;
CREATE FUNCTION {GEN}.who(s text, g {GEN}.gen_case) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN s LIKE 'cpi.%' THEN g.cpi WHEN s LIKE 'sds.%' THEN g.sds WHEN s LIKE 'cm.%' THEN g.cm ELSE s END
$$;
CREATE FUNCTION {GEN}.new_id(g {GEN}.gen_case, old text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT md5(g.id || old)::uuid::text $$;
CREATE FUNCTION {GEN}.meeting(g {GEN}.gen_case, old text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT g.zone || '-' || to_char(to_date(right(old, 8), 'YYYYMMDD') + g.days, 'YYYYMMDD')
$$;
"""


def _expressions(table: Any, overrides: dict[str, str]) -> tuple[str, str]:
    """Target column list and SELECT list: shifted dates and times, the rest copied unless overridden.

    An override "DEFAULT" leaves the column out (its sequence numbers the rows)."""
    names, values = [], []
    for column in table.c:
        if overrides.get(column.name) == "DEFAULT":
            continue
        names.append(column.name)
        if column.name in overrides:
            values.append(overrides[column.name])
        elif isinstance(column.type, UtcDateTime):
            values.append(f"t.{column.name} + g.shift")
        elif str(column.type) == "DATE":
            values.append(f"t.{column.name} + g.days")
        else:
            values.append(f"t.{column.name}")
    return ", ".join(names), ", ".join(values)


def _person_overrides() -> dict[str, str]:
    return {"zone": "g.zone", "beneficiary_name": "g.first || ' ' || g.last", "codice_fiscale": "g.cf"}


def statements(versions: dict[str, int], parts: int) -> list[list[str]]:
    """The INSERT ... SELECT statements, grouped into jobs that can run side by side."""
    join = f"FROM {GEN}.gen_case g JOIN {GEN}.tpl_{{t}} t ON t.tpl = g.tpl JOIN {GEN}.tpl_meta m ON m.tpl = g.tpl"
    version = "CASE t.process_id " + " ".join(f"WHEN '{p}' THEN {v}" for p, v in versions.items()) + " END"
    instance = {**_person_overrides(), "id": "g.id", "process_version_id": version,
                "state": f"{GEN}.swap(t.state, m, g)", "case_manager": "CASE WHEN t.case_manager IS NULL THEN NULL ELSE g.cm END",
                "specialist_services": "g.services", "started_by": "g.cpi", "claimed_until": "NULL",
                "open_case_key": "CASE WHEN t.open_case_key IS NULL THEN NULL ELSE t.process_id || ':' || g.cf END"}
    cols, vals = _expressions(tables.instances, instance)
    instance_jobs = [[f"INSERT INTO instances ({cols}) SELECT {vals} {join.format(t='instances')} "
                      f"WHERE g.n % {parts} = {p}"] for p in range(parts)]
    case = {**_person_overrides(), "id": "g.id", "birth_date": "g.birth", "specialist_services": "g.services",
            "case_manager": "CASE WHEN t.case_manager IS NULL THEN NULL ELSE g.cm END"}
    task = {**_person_overrides(), "id": f"{GEN}.new_id(g, t.id)", "instance_id": "g.id", "case_id": "g.id",
            "assignee": f"{GEN}.who(t.assignee, g)", "draft": f"{GEN}.swap(t.draft, m, g)"}
    equipe_task = {**task, "instance_id": f"md5('meeting:' || {GEN}.meeting(g, t.meeting_id))::uuid::text"}
    audit = {"id": "DEFAULT", "actor": f"{GEN}.who(t.actor, g)", "instance_id": "g.id",
             "task_id": f"CASE WHEN t.task_id IS NULL THEN NULL ELSE {GEN}.new_id(g, t.task_id) END",
             "data": f"{GEN}.swap(t.data, m, g)"}
    attachment = {"id": f"{GEN}.new_id(g, t.id)", "instance_id": "g.id", "content": "''::bytea",
                  "uploaded_by": f"{GEN}.who(t.uploaded_by, g)",
                  "filename": "replace(t.filename, lower(m.first || '-' || m.last), "
                              "lower(replace(replace(g.first || '-' || g.last, ' ', '-'), '''', '')))"}
    booking = {"id": f"{GEN}.new_id(g, t.id)", "case_id": "g.id", "zone": "g.zone", "case_manager": "g.cm"}
    subscription = {"instance_id": "g.id", "correlation": f"{GEN}.swap(t.correlation, m, g)"}
    agenda = {"meeting_id": f"{GEN}.meeting(g, t.meeting_id)", "case_id": "g.id", "item": f"{GEN}.swap(t.item, m, g)"}
    # The template's key travels with its sealed audit rows: each copy of a case opens them with it.
    subject_key = {"instance_id": "g.id", "codice_fiscale": "g.cf"}

    def insert(table: Any, overrides: dict[str, str], source: str, order: str = "") -> str:
        cols, vals = _expressions(table, overrides)
        return f"INSERT INTO {table.name} ({cols}) SELECT {vals} {join.format(t=source)} {order}"

    rows_job = [
        insert(tables.cases, case, "cases"),
        insert(tables.tasks, task, "tasks"),
        insert(tables.tasks, equipe_task, "equipe_tasks"),
        insert(tables.attachments, attachment, "attachments"),
        insert(tables.bookings, booking, "bookings"),
        insert(tables.subscriptions, subscription, "subscriptions"),
        insert(tables.meeting_agenda, agenda, "meeting_agenda"),
        insert(tables.subject_keys, subject_key, "subject_keys"),
    ]
    # Ids in the order of each case's history (the case file reads it by id): a nested loop over the
    # cases in order and each template's rows by id, rather than sorting 16 million rows.
    audit_job = ["SET enable_hashjoin = off", "SET enable_mergejoin = off", "SET enable_sort = off",
                 insert(tables.audit_events, audit, "audit_events", "ORDER BY g.n, t.id")]
    meeting_cols, _ = _expressions(tables.meetings, {})
    meetings_job = [
        f"""CREATE UNLOGGED TABLE {GEN}.new_meetings AS
            SELECT DISTINCT ON (new_id) {GEN}.meeting(g, tm.id) AS new_id, g.zone, tm.scheduled_at + g.mshift AS scheduled_at,
                tm.cutoff_at + g.mshift AS cutoff_at, tm.location, tm.status, tm.due_at + g.mshift AS due_at, tm.attempts,
                tm.last_error, tm.instance_id AS tpl_instance, tm.tpl, tm.created_at + g.mshift AS created_at, g.mshift, g.zone AS gzone
            FROM {GEN}.gen_case g JOIN {GEN}.tpl_meetings tm ON tm.tpl = g.tpl
            ORDER BY new_id, (tm.instance_id IS NULL), g.n""",
        f"""INSERT INTO meetings ({meeting_cols})
            SELECT new_id, zone, scheduled_at, cutoff_at, location, status, due_at, attempts, last_error,
                CASE WHEN tpl_instance IS NULL THEN NULL ELSE md5('meeting:' || new_id)::uuid::text END, NULL, created_at
            FROM {GEN}.new_meetings""",
        f"""INSERT INTO instances ({_expressions(tables.instances, {})[0]})
            SELECT md5('meeting:' || nm.new_id)::uuid::text, {version.replace('t.process_id', 'i.process_id')},
                i.process_id, i.status, i.row_version,
                replace(replace(i.state, tm.id, nm.new_id), tm.zone, nm.zone), i.next_due_at + nm.mshift, nm.zone,
                NULL, NULL, NULL, NULL, i.current_step, i.error, 0, NULL, i.started_by, i.started_at + nm.mshift,
                i.updated_at + nm.mshift, i.ended_at + nm.mshift, NULL, 0, NULL, NULL
            FROM {GEN}.new_meetings nm JOIN {GEN}.tpl_meetings tm ON tm.tpl = nm.tpl AND tm.instance_id = nm.tpl_instance
            JOIN {GEN}.tpl_meeting_instances i ON i.tpl = nm.tpl AND i.id = nm.tpl_instance""",
    ]
    return [*instance_jobs, audit_job, rows_job, meetings_job]


# -- bulk-load mechanics -------------------------------------------------------------------------


def placements_and_register(url: str, years: int, now: datetime) -> None:
    """Placements during the paths and each zone's register of operators' meetings (what the indicators count).

    The scenarios record neither (they are recorded beside the process), so they are derived from
    the case records: 0, 0, 1, 1 or 2 placements for every case whose path started, of every kind
    and sector, starting 10-300 days into the path; a coordination meeting every 14 days in each
    zone, every fourth one a training. Nothing after `now`.
    """
    pick = "(ARRAY[{items}])[1 + abs(hashtext(c.id || {salt})) % {n}]"
    kinds = ", ".join(f"'{k}'" for k in ("tirocinio", "assunzione", "inclusione_sociale", "laboratorio_protetto"))
    sectors = ", ".join(f"'{k}'" for k in ("agricoltura", "industria", "costruzioni", "commercio", "servizi",
                                            "pubblica_amministrazione", "terzo_settore"))
    start = "c.path_start_date + (10 + abs(hashtext(c.id || 'd' || k)) % 290)"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute(f"""
            INSERT INTO placements (case_id, zone, kind, sector, start_date, end_date, recorded_by, recorded_at)
            SELECT c.id, c.zone, {pick.format(items=kinds, salt="'k' || k", n=4)},
                   {pick.format(items=sectors, salt="'s' || k", n=7)}, {start}, {start} + 90,
                   coalesce(c.case_manager, 'bench.admin'), ({start})::timestamp AT TIME ZONE 'UTC' + interval '9 hours'
            FROM cases c CROSS JOIN LATERAL generate_series(1, (ARRAY[0, 0, 1, 1, 2])[1 + abs(hashtext(c.id)) % 5]) k
            WHERE c.path_start_date IS NOT NULL AND {start} <= DATE '{now.date()}' ORDER BY c.id, k""")
        conn.execute("""
            INSERT INTO operator_meetings (zone, held_on, kind, topic, participants, recorded_by, recorded_at)
            SELECT z.zone, d::date, CASE WHEN n %% 4 = 0 THEN 'formazione' ELSE 'coordinamento' END,
                   CASE WHEN n %% 4 = 0 THEN 'Formazione congiunta' ELSE 'Coordinamento di zona' END,
                   6 + (n + length(z.zone)) %% 7, 'sds.' || z.zone, d + interval '15 hours'
            FROM (SELECT DISTINCT zone FROM cases) z
            CROSS JOIN LATERAL (SELECT d, row_number() OVER (ORDER BY d) AS n
                                FROM generate_series(%s::date, %s::date, interval '14 days') d) s""",
                     (now.date() - timedelta(days=365 * years), now.date()))
        conn.execute("VACUUM ANALYZE placements")
        conn.execute("VACUUM ANALYZE operator_meetings")


def drop_secondary(conn: psycopg.Connection) -> list[str]:
    """Drop foreign keys, unique constraints and secondary indexes of the target tables; returns how to rebuild them."""
    names = list(TARGETS)
    constraints = conn.execute("""
        SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid)
        FROM pg_constraint c WHERE c.contype IN ('f', 'u') AND c.conrelid::regclass::text = ANY(%s)
        ORDER BY c.contype DESC""", (names,)).fetchall()  # u before f
    indexes = conn.execute("""
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
        WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""", (names,)).fetchall()
    for table, name, kind, _ in sorted(constraints, key=lambda c: c[2]):  # foreign keys first
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    conn.commit()
    rebuild = [definition for _, definition in indexes]
    rebuild += [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, k, d in constraints if k == "u"]
    foreign = [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, k, d in constraints if k == "f"]
    return rebuild + foreign


def run_jobs(url: str, jobs: list[list[str]], workers: int, label: str) -> None:
    """Run each job's statements in order on its own connection, `workers` jobs at a time."""
    def one(job: list[str]) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET synchronous_commit = off")
            conn.execute("SET maintenance_work_mem = '512MB'")
            conn.execute("SET work_mem = '64MB'")
            conn.execute("SET max_parallel_maintenance_workers = 0")
            for sql in job:
                started = time.perf_counter()
                conn.execute(sql)
                head = " ".join(sql.split()[:6])
                print(f"    {label}: {head[:90]} ... {time.perf_counter() - started:.1f} s", flush=True)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, jobs))


def sizes(url: str) -> list[tuple[str, int, int, int, int, int]]:
    """(table, rows, heap bytes, TOAST bytes, index bytes, total bytes) of every table of the schema."""
    found = []
    with psycopg.connect(url) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace "
            "ORDER BY pg_total_relation_size(oid) DESC")]
        for name in names:
            rows = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            heap, total, index = conn.execute(
                "SELECT pg_relation_size(%s), pg_total_relation_size(%s), pg_indexes_size(%s)",
                (name, name, name)).fetchone()
            found.append((name, rows, heap, total - heap - index, index, total))
    return found


def _mb(value: int) -> str:
    return f"{value / 1024 / 1024:,.1f}"


def print_sizes(found: list[tuple[str, int, int, int, int, int]]) -> None:
    """The sizes as a Markdown table."""
    print("| table | rows | heap MB | TOAST MB | indexes MB | total MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, rows, heap, toast, index, total in found:
        if rows or total > 65536:
            print(f"| {name} | {rows:,} | {_mb(heap)} | {_mb(toast)} | {_mb(index)} | {_mb(total)} |")
    print(f"| **all** | {sum(r[1] for r in found):,} | {_mb(sum(r[2] for r in found))} | "
          f"{_mb(sum(r[3] for r in found))} | {_mb(sum(r[4] for r in found))} | {_mb(sum(r[5] for r in found))} |")


def timed(label: str, action: Callable[[], Any]) -> Any:
    """Run a phase and print how long it took."""
    started = time.perf_counter()
    result = action()
    print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("GOL_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--zones", type=int, default=100)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--open-share", type=float, default=0.10)
    parser.add_argument("--zones-dir", type=Path, default=ROOT / "var" / "national" / "zones")
    parser.add_argument("--jobs", type=int, default=2, help="statements run side by side (server connections)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    started = time.perf_counter()
    now = datetime.now(UTC).replace(microsecond=0)
    zones = zone_ids(args.zones)
    var_dir = args.zones_dir.parent / "var"
    print(f"National data set: {args.cases:,} cases, {len(zones)} zones, {args.years} years to {now:%Y-%m-%d}, "
          f"{args.open_share:.0%} open; {os.cpu_count()} CPUs, load average at start "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    timed("schema (gol-workflow db upgrade)", lambda: reset_and_migrate(args.postgres))
    timed(f"{len(zones)} zone files in {args.zones_dir}", lambda: write_zones(args.zones_dir, zones))
    versions = timed("processes deployed, operators added",
                     lambda: deploy_and_users(args.postgres, args.zones_dir, var_dir, zones))
    shots = timed("scenarios run through the service (templates)", capture)
    closed, open_ = choose(shots)
    chosen = closed + open_
    kinds = ["closed"] * len(closed) + ["open"] * len(open_)
    print(f"  templates: {len(closed)} closed cases, {len(open_)} open ones (state "
          f"{min(len(s.rows['instances'][0]['state']) for s in chosen):,}-"
          f"{max(len(s.rows['instances'][0]['state']) for s in chosen):,} bytes)", flush=True)
    with psycopg.connect(args.postgres) as conn:
        timed("templates loaded", lambda: load_templates(conn, chosen, kinds))
        rows = staging_rows(args.cases, zones, chosen, kinds, now, args.years, args.open_share, args.seed)
        timed(f"{args.cases:,} cases staged (COPY)", lambda: load_staging(conn, rows))
        conn.execute(FUNCTIONS)
        conn.commit()
        rebuild = timed("secondary indexes and foreign keys dropped", lambda: drop_secondary(conn))
    jobs = statements(versions, max(1, args.jobs))
    timed("tables filled (INSERT ... SELECT)", lambda: run_jobs(args.postgres, jobs, args.jobs, "fill"))
    index_jobs = [[sql] for sql in rebuild if "FOREIGN KEY" not in sql]
    foreign_jobs = [[sql] for sql in rebuild if "FOREIGN KEY" in sql]
    index_jobs.sort(key=lambda job: ("audit_events" not in job[0], "instances" not in job[0]))
    timed("indexes rebuilt", lambda: run_jobs(args.postgres, index_jobs, args.jobs, "index"))
    timed("foreign keys checked", lambda: run_jobs(args.postgres, foreign_jobs, args.jobs, "fk"))
    timed("placements and the operators' meetings register",
          lambda: placements_and_register(args.postgres, args.years, now))

    def finish() -> None:
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {GEN} CASCADE")
        vacuum = [["VACUUM (ANALYZE, PROCESS_TOAST FALSE) instances"]] + [
            [f"VACUUM ANALYZE {t}"] for t in ("audit_events", "cases", "tasks", "attachments", "bookings",
                                              "subscriptions", "meetings", "meeting_agenda", "users",
                                              "process_versions")]
        run_jobs(args.postgres, vacuum, args.jobs, "vacuum")

    timed("staging dropped, VACUUM ANALYZE", finish)
    elapsed = time.perf_counter() - started
    print(f"Filled in {elapsed / 60:.1f} min (load average at the end "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())})\n")
    print_sizes(sizes(args.postgres))
    return 0


if __name__ == "__main__":
    sys.exit(main())

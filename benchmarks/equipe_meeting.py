"""One equipe meeting with many cases on its agenda, its participants completing their parts at once.

The scratch PostgreSQL database gets the shipped processes, the zone files and the operators of
the Pistoiese zone. N Percorso 4 cases are opened and profiled (a fifth of them followed by the
mental health service, invited to the equipe), so all N are on the agenda of the meeting of
Tuesday 13 January 2026; the clock then moves past the cut-off (agenda e-mail) and the meeting
time, when the meeting starts one `discussione_caso` instance per case.

Then 8 participants work at once, each a thread calling the service's use cases in-process
(`tasks.complete_task`, the same call the API and the web make, one transaction each; no HTTP):
3 CPI operators, 3 Social Services operators and 2 mental health referents. Each case's scheda
is drafted by one CPI or Social Services operator; then the CPI, the Social Services and, where
it took part, the mental health service confirm the decision, each in their own queue. A
participant whose next confirmation is not ready yet (the scheda is still being written) takes
it up later, as a person would.

Every completion is timed (a completion the service redid because another participant's
completion of the same discussion committed first is one completion, its time included). A
conflict that still reaches the caller (ConcurrentChange) is retried like an operator
resubmitting, and counted: *within one case* when another participant was completing a task of
the same case at that moment (two confirmations of one decision), *between different cases*
otherwise. The run fails on any conflict between different cases, on any other error, and when
the p95 per completion with N cases exceeds 1.5x the p95 with 5 cases.

All meetings are held one after the other (weekly) on one database and one runtime, after a
warm-up meeting that is not counted; the reference size is held `--reference-runs` times and each
larger size `--runs` times, completions pooled per size.

    .venv/bin/python benchmarks/equipe_meeting.py [--postgres URL] [--sizes 5,500] [--reference-runs 10] [--runs 1]
"""

from __future__ import annotations

import argparse
import os
import logging
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gol_workflow.bootstrap import bootstrap  # noqa: E402
from gol_workflow.clock import ManualClock  # noqa: E402
from gol_workflow.config import Settings  # noqa: E402
from gol_workflow.domain.errors import ConcurrentChange  # noqa: E402
from gol_workflow.domain.model import Actor  # noqa: E402
from gol_workflow.forms.codice_fiscale import check_character  # noqa: E402
from gol_workflow.forms.cross_rules import CF_RULE  # noqa: E402
from gol_workflow.persistence import schema  # noqa: E402
from gol_workflow.services.access import authorization, users  # noqa: E402
from gol_workflow.services.administration import deployment  # noqa: E402
from gol_workflow.services.cases import case_start  # noqa: E402
from gol_workflow.services.workflow import clock as clock_service  # noqa: E402
from gol_workflow.services.workflow import tasks as task_service  # noqa: E402
from gol_workflow.services.workflow.due_work import run_due_work  # noqa: E402
from gol_workflow.services.workflow.runtime import Runtime  # noqa: E402

ROME = ZoneInfo("Europe/Rome")
ADMIN = Actor(username="bench", role="admin")
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/gol_equipe_bench"
MEETING_AT = datetime(2026, 1, 13, 9, 30, tzinfo=ROME)
SPECIALIST_EVERY = 5  # one case in five is followed by the mental health service
OPERATORS = (  # (username, role, services): the 8 participants
    ("cpi.1", "cpi", []), ("cpi.2", "cpi", []), ("cpi.3", "cpi", []),
    ("sds.1", "sds", []), ("sds.2", "sds", []), ("sds.3", "sds", []),
    ("ufsma.1", "specialist", ["salute_mentale"]), ("ufsma.2", "specialist", ["salute_mentale"]),
)
CONFIRM = {"conferma_partecipante": {"esito": "conferma"}}
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def scheda(with_specialist: bool) -> dict[str, object]:
    """A positive scheda; the mental health service took part when invited."""
    return {"scheda_esito": {
        "servizi_presenti": ["centro_impiego", "servizio_sociale"]
        + (["servizi_specialistici"] if with_specialist else []),
        "servizi_specialistici_invitati": [{"servizio": "salute_mentale", "presente": True}] if with_specialist else [],
        "beneficiario_presente": True, "decisione": "presa_in_carico", "misure": ["orientamento_specialistico"],
        "obiettivo_inclusione_sociale": "Rete di relazioni.", "obiettivo_occupabilita": "Routine.",
        "obiettivo_inserimento_lavorativo": "Tirocinio.", "referente_servizio_sociale": "Referente SdS"}}


def codice_fiscale(index: int) -> str:
    """A distinct valid codice fiscale per case (surname and name letters from the index)."""
    letters = "".join(LETTERS[(index // 26 ** k) % 26] for k in range(3))
    first15 = f"{letters}MRA80A01G713"[:15]
    return first15 + check_character(first15)


# -- set-up ----------------------------------------------------------------------------------


def fresh_database(url: str) -> None:
    """Drop and recreate the scratch database."""
    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/template1", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def prepare(url: str, var_dir: Path) -> tuple[Runtime, dict[str, Actor]]:
    """Schema, the shipped processes and the operators."""
    settings = Settings(database_url=url, processes_dir=ROOT / "processes", forms_dir=ROOT / "forms",
                        zones_dir=ROOT / "zones", var_dir=var_dir, secret_key="benchmark-secret")
    rt = bootstrap(settings, clock=ManualClock(datetime(2026, 1, 5, 8, 0, tzinfo=ROME)))
    schema.upgrade(rt.db)
    deployment.deploy(rt, deployment.read_sources(ROOT / "processes", ROOT / "forms"), ADMIN)
    actors: dict[str, Actor] = {}
    for username, role, services in OPERATORS:
        users.add_user(rt, username, role, ADMIN, ["pistoiese"], services, "benchmark-password", username)
        found = users.find_user(rt, username)
        assert found is not None
        actors[username] = found.actor()
    return rt, actors


def seed(rt: Runtime, cpi: Actor, count: int, first_index: int = 0) -> dict[str, bool]:
    """`count` profiled cases on the 13 January agenda; case id -> followed by the mental health service."""
    def one(index: int) -> tuple[str, bool]:
        person = {"codice_fiscale": codice_fiscale(index), "nome": f"Nome{index}", "cognome": f"Cognome{index}",
                  "data_nascita": "1980-01-01"}
        case_id = case_start.open_case(rt, "percorso4", {"zona": "pistoiese", "beneficiario": person}, cpi,
                                       {CF_RULE})
        special = index % SPECIALIST_EVERY == 0
        profile: dict[str, object] = {"bisogni_complessi": True, "fabbisogno_formativo": "aggiornamento",
                                      "conosciuto_servizio_sociale": False, "bisogni_particolari": special,
                                      "note_assessment": "Profilo di prova."}
        if special:
            profile["servizi_specialistici"] = ["salute_mentale"]
        with rt.uow(write=False) as uow:
            (task,) = [t for t in uow.inbox_search.for_case(case_id) if t["element_id"] == "profilazione"]
        task_service.complete_task(rt, str(task["id"]), profile, cpi)
        return case_id, special

    with ThreadPoolExecutor(4) as pool:
        return dict(pool.map(one, range(first_index, first_index + count)))


# -- the participants ------------------------------------------------------------------------


@dataclass
class Tally:
    """What the participants did, shared between their threads."""

    latencies: list[float] = field(default_factory=list)
    same_case_conflicts: int = 0
    cross_case_conflicts: int = 0
    errors: list[str] = field(default_factory=list)
    attempts: dict[str, list[list[float]]] = field(default_factory=dict)  # case -> [thread, start, end] of each try
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, other: Tally) -> None:
        """Pool another run's figures into this one."""
        self.latencies += other.latencies
        self.same_case_conflicts += other.same_case_conflicts
        self.cross_case_conflicts += other.cross_case_conflicts
        self.errors += other.errors

    def p(self, percent: float) -> float:
        """A latency percentile in milliseconds."""
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(percent / 100 * len(ordered)))]


def open_task(rt: Runtime, case_id: str, element: str, actor: Actor) -> str | None:
    """The id of this case's open task of this kind that the person may work, if there is one."""
    with rt.uow(write=False) as uow:
        rows = [t for t in uow.inbox_search.for_case(case_id) if t["element_id"] == element]
        case = uow.instances.header(case_id)
    mine = [t for t in rows if authorization.can_work_task(actor, t, case)]
    return str(mine[0]["id"]) if mine else None


def complete(rt: Runtime, tally: Tally, actor: Actor, case_id: str, task_id: str, data: dict[str, object]) -> None:
    """One timed completion; a conflict is counted and the completion done again.

    A conflict is *within one case* when another participant's completion of the same case overlapped
    this try; otherwise it would be *between different cases* (what one instance per case rules out).
    """
    me = float(threading.get_ident())
    while True:
        began = time.perf_counter()
        attempt = [me, began, float("inf")]
        with tally.lock:
            tally.attempts.setdefault(case_id, []).append(attempt)
        try:
            task_service.complete_task(rt, task_id, data, actor)
        except ConcurrentChange:
            ended = time.perf_counter()
            with tally.lock:
                attempt[2] = ended
                same = any(who != me and start <= ended and end >= began
                           for who, start, end in tally.attempts[case_id])
                if same:
                    tally.same_case_conflicts += 1
                else:
                    tally.cross_case_conflicts += 1
            continue
        except Exception as exc:  # noqa: BLE001 - every other error fails the run
            with tally.lock:
                attempt[2] = time.perf_counter()
                tally.errors.append(f"{actor.username} {case_id}: {exc.__class__.__name__}: {exc}")
            return
        ended = time.perf_counter()
        with tally.lock:
            attempt[2] = ended
            tally.latencies.append(ended - began)
        return


def participant(rt: Runtime, tally: Tally, actor: Actor, work: list[tuple[str, str, bool]],
                start: threading.Barrier) -> None:
    """Work through a list of (case, element, specialist?) in order; what is not ready yet waits its turn."""
    pending = list(work)
    start.wait()
    idle_rounds = 0
    while pending:
        case_id, element, special = pending.pop(0)
        task_id = open_task(rt, case_id, element, actor)
        if task_id is None:
            pending.append((case_id, element, special))
            idle_rounds += 1
            if idle_rounds >= len(pending):
                time.sleep(0.05)  # everything left waits for someone else's scheda
                idle_rounds = 0
            continue
        idle_rounds = 0
        complete(rt, tally, actor, case_id, task_id, scheda(special) if element == "scheda_esito" else CONFIRM)


def work_lists(cases: dict[str, bool]) -> dict[str, list[tuple[str, str, bool]]]:
    """Each participant's parts: schede shared among CPI and SdS operators, confirmations among each service's."""
    by_role: dict[str, list[str]] = {}
    for username, role, _ in OPERATORS:
        by_role.setdefault(role, []).append(username)
    drafters = by_role["cpi"] + by_role["sds"]
    work: dict[str, list[tuple[str, str, bool]]] = {u: [] for u, _, _ in OPERATORS}
    for index, (case_id, special) in enumerate(sorted(cases.items())):
        work[drafters[index % len(drafters)]].append((case_id, "scheda_esito", special))
    for index, (case_id, special) in enumerate(sorted(cases.items())):
        for role in ("cpi", "sds") + (("specialist",) if special else ()):
            people = by_role[role]
            work[people[index % len(people)]].append((case_id, "conferma_decisione", special))
    return work


def next_meeting(rt: Runtime, case_id: str) -> datetime:
    """When the meeting the case is booked on starts."""
    with rt.uow(write=False) as uow:
        rows = [r for r in uow.meetings.meetings_of_case(case_id) if r["status"] == "planned"]
    return min(r["scheduled_at"] for r in rows)


def settle(rt: Runtime, done: Callable[[], bool]) -> None:
    """Run the due work again, as the scheduler's next passes would, until `done` (at most 15 minutes)."""
    began = time.perf_counter()
    while not done():
        if time.perf_counter() - began > 900:
            raise SystemExit("the meeting did not get to its next state within 15 minutes")
        time.sleep(0.5)
        run_due_work(rt, actor=ADMIN)


def convened_meeting(rt: Runtime, case_id: str) -> bool:
    """Whether the meeting the case is booked on has its instance."""
    with rt.uow(write=False) as uow:
        return any(r["instance_id"] for r in uow.meetings.meetings_of_case(case_id))


def count_schede(rt: Runtime, cases: dict[str, bool]) -> int:
    """How many of these cases have their scheda open."""
    with rt.uow(write=False) as uow:
        return sum(1 for c in cases for t in uow.inbox_search.for_case(c) if t["element_id"] == "scheda_esito")


def hold(rt: Runtime, actors: dict[str, Actor], size: int, first_index: int) -> Tally:
    """One meeting with `size` new cases on its agenda, worked by the 8 participants at once."""
    began = time.perf_counter()
    cases = seed(rt, actors["cpi.1"], size, first_index)
    seeded = time.perf_counter() - began
    meeting_at = next_meeting(rt, next(iter(cases)))
    # Convening (the agenda e-mail) and starting the discussions are one step each, O(cases): with many
    # cases they outlast the scheduler's step timeout (GOL_SCHEDULER_STEP_TIMEOUT), and the scheduler goes
    # on while the step commits; its next pass (here: the loop) finds what became due meanwhile.
    clock_service.step_to(rt, meeting_at - timedelta(hours=1), ADMIN)  # the cut-off
    settle(rt, lambda: convened_meeting(rt, next(iter(cases))))
    began = time.perf_counter()
    clock_service.step_to(rt, meeting_at + timedelta(minutes=1), ADMIN)  # the meeting time: one discussion per case
    settle(rt, lambda: count_schede(rt, cases) == size)
    convened = time.perf_counter() - began
    tally = Tally()
    lists = work_lists(cases)
    start = threading.Barrier(len(OPERATORS) + 1)
    threads = [threading.Thread(target=participant, args=(rt, tally, actors[u], lists[u], start))
               for u, _, _ in OPERATORS]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    worked = time.perf_counter() - began
    with rt.uow(write=False) as uow:
        waiting = [c for c in cases if [t["element_id"] for t in uow.inbox_search.for_case(c)]
                   != ["prenota_primo_appuntamento"]]
    if waiting:
        tally.errors.append(f"{len(waiting)} case(s) did not reach the first appointment, e.g. {waiting[0]}")
    print(f"{size:>5} cases ({meeting_at.astimezone(ROME):%d/%m}): seeded in {seeded:5.1f} s, meeting start "
          f"({size} discussions) {convened:5.2f} s; {len(tally.latencies)} completions in {worked:5.1f} s: "
          f"p50 {tally.p(50):6.1f} ms, "
          f"p95 {tally.p(95):6.1f} ms; conflicts within one case {tally.same_case_conflicts}, between different "
          f"cases {tally.cross_case_conflicts}; errors {len(tally.errors)}", flush=True)
    return tally


def main(argv: list[str] | None = None, report: Callable[[str], None] = print) -> int:
    """Measure each size (5 first, the reference), then check the targets."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=DEFAULT_URL, help="scratch database (dropped and recreated)")
    parser.add_argument("--sizes", default="5,500", help="cases on the agenda, the first being the reference")
    parser.add_argument("--runs", type=int, default=1, help="meetings of each larger size (completions pooled)")
    parser.add_argument("--reference-runs", type=int, default=10,
                        help="meetings of the first size: enough completions for its p95 to mean something")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    report(f"conditions: PostgreSQL, one Python process, the participants are threads calling the service's use "
           f"cases (not HTTP); {os.cpu_count()} CPUs, load average before "
           f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    fresh_database(args.postgres)
    logging.getLogger("gol_workflow.services.mail.outbox").setLevel(logging.CRITICAL)  # no SMTP server here
    pooled = {size: Tally() for size in sizes}
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        rt, actors = prepare(args.postgres, Path(tmp))
        print("warm-up meeting (not counted):", flush=True)
        hold(rt, actors, sizes[0], 0)
        first = sizes[0]
        for size in sizes:
            for _ in range(args.reference_runs if size == sizes[0] else args.runs):
                pooled[size].add(hold(rt, actors, size, first))
                first += size
        rt.db.dispose()
    p95 = {size: tally.p(95) for size, tally in pooled.items()}
    for size, tally in pooled.items():
        failures += tally.errors
        if tally.cross_case_conflicts:
            failures.append(f"{tally.cross_case_conflicts} conflict(s) between different cases with {size} cases")
        report(f"{size:>5} cases: {len(tally.latencies)} completions, p50 {tally.p(50):.1f} ms, "
               f"p95 {tally.p(95):.1f} ms; conflicts within one case {tally.same_case_conflicts}, between "
               f"different cases {tally.cross_case_conflicts}")
    reference = p95[sizes[0]]
    for size in sizes[1:]:
        ratio = p95[size] / reference
        report(f"p95 with {size} cases: {p95[size]:.1f} ms = {ratio:.2f}x the p95 with {sizes[0]} "
               f"({reference:.1f} ms); target <= 1.5x")
        if ratio > 1.5:
            failures.append(f"p95 with {size} cases is {ratio:.2f}x the p95 with {sizes[0]}")
    for failure in failures:
        report(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

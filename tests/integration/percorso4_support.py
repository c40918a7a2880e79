"""Driving the real Percorso 4 processes through the service layer, as operators and the scheduler do.

Every step goes through a use case (open a case, open a task page, complete it, ask for a
monitoring) with the operator's own account, and time moves only through the function the
scheduler and the simulated clock use (`services.clock.step_to` -> `run_due_work`). The
runtime keeps no workflow in memory (cache size 0) and the cache is cleared after each
step anyway, so every step loads the case from the database and stores it back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from gol_workflow.bootstrap import bootstrap
from gol_workflow.clock import ManualClock, SystemClock
from gol_workflow.config import Settings, SmtpSettings
from gol_workflow.domain.model import Actor
from gol_workflow.forms.codice_fiscale import check_character
from gol_workflow.forms.cross_rules import CF_RULE
from gol_workflow.persistence.sealing import opened
from gol_workflow.persistence.tables import (
    audit_events,
    outbox,
    pending_messages,
    tasks,
)
from gol_workflow.services.cases import case_start
from gol_workflow.services.administration import deployment
from gol_workflow.services.workflow import task_view
from gol_workflow.services.access import authorization, users
from gol_workflow.services.workflow import clock as clock_service
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.workflow import tasks as task_service
from gol_workflow.services.workflow.form_options import allowed_values
from gol_workflow.services.workflow.runtime import Runtime
from gol_workflow.services.scenarios.files import scenario_accounts
from tests.conftest import ADMIN, ROME, ROOT, assert_cache_matches_database
from tests.integration.scheduling_support import SmtpServer
from tests.spiff_reference import assert_stored_as_spiff

SENDER = "gol-percorso4@arti.example.it"
PASSWORD = "una-password-lunga"

# (username, role, zones, full name, services): the operators the analysts' scenarios declare, so both walk
# the same people.
ACCOUNTS = tuple((a.username, a.role, list(a.zones), a.name, list(a.services))
                 for a in scenario_accounts(ROOT / "processes" / "scenarios"))


def codice_fiscale(first15: str) -> str:
    """A valid codice fiscale from its first 15 characters."""
    return first15 + check_character(first15)


def person(cognome: str, nome: str, first15: str, born: str) -> dict[str, str]:
    """A beneficiario as the start form takes it."""
    return {"codice_fiscale": codice_fiscale(first15), "nome": nome, "cognome": cognome, "data_nascita": born}


LUCIA = person("Bianchi", "Lucia", "BNCLCU80A41G713", "1980-01-01")
MARCO = person("Rossi", "Marco", "RSSMRC75C12E715", "1975-03-12")
ANNA = person("Verdi", "Anna", "VRDNNA90H50G491", "1990-06-10")
PAOLO = person("Neri", "Paolo", "NREPLA70A01G713", "1970-01-01")
SARA = person("Gialli", "Sara", "GLLSRA85M45G713", "1985-08-05")


def profilo(complessi: bool = True, fabbisogno: str = "aggiornamento", conosciuto: bool = False,
            servizi: list[str] | None = None) -> dict[str, Any]:
    """The profiling form: complex needs or not, known to the social service, particular needs."""
    data: dict[str, Any] = {"bisogni_complessi": complessi, "fabbisogno_formativo": fabbisogno,
                            "note_assessment": "Disoccupato/a da oltre 24 mesi, rete familiare fragile."}
    if complessi:
        data.update({"conosciuto_servizio_sociale": conosciuto, "bisogni_particolari": bool(servizi)})
        if servizi:
            data["servizi_specialistici"] = servizi
    return data


def scheda(presente: bool, decisione: str = "presa_in_carico", nota: str = "", misure: list[str] | None = None,
           invitati: Mapping[str, bool] | None = None) -> dict[str, Any]:
    """The equipe's scheda di esito form (`invitati`: each invited specialist service, present or excused)."""
    values: dict[str, Any] = {
        "servizi_presenti": ["centro_impiego", "servizio_sociale"] + (
            ["servizi_specialistici"] if any((invitati or {}).values()) else []),
        "servizi_specialistici_invitati": [
            {"servizio": s, "presente": True, "referente": "Referente del servizio"} if here
            else {"servizio": s, "presente": False, "motivo_assenza": "Assenza comunicata per e-mail dal referente."}
            for s, here in (invitati or {}).items()],
        "referenti_presenti": "C. Pieri (CPI), S. Desideri (SdS)",
        "beneficiario_presente": presente, "decisione": decisione, "note": nota,
    }
    if decisione == "presa_in_carico":
        values.update({
            "misure": misure or ["orientamento_specialistico", "tirocinio_inclusione"],
            "obiettivo_inclusione_sociale": "Rafforzare la rete di relazioni.",
            "obiettivo_occupabilita": "Recuperare routine e competenze trasversali.",
            "obiettivo_inserimento_lavorativo": "Tirocinio in una cooperativa sociale di tipo B.",
            "referente_servizio_sociale": "S. Desideri",
        })
    else:
        values["motivazione"] = "Serve la relazione del servizio specialistico."
    return {"scheda_esito": values}


PROGETTO = {
    "data_sottoscrizione_progetto": "2026-03-02",
    "obiettivi": [{"ambito": "inclusione_sociale", "obiettivo": "Partecipare a un gruppo di auto mutuo aiuto",
                   "risultato_atteso": "Presenza ad almeno 8 incontri"},
                  {"ambito": "occupabilita", "obiettivo": "Recuperare routine e competenze trasversali",
                   "risultato_atteso": "Tirocinio svolto con continuità"}],
    "aree_non_applicabili": [{"ambito": "inserimento_lavorativo",
                              "motivazione": "Si valuta dopo il tirocinio di inclusione."}],
    "attivita": [{"misura": "tirocinio_inclusione", "descrizione": "Tirocinio presso cooperativa sociale",
                  "soggetto_erogatore": "Coop. sociale Esempio", "data_inizio": "2026-04-01",
                  "data_fine": "2026-09-30"}],
    "impegni_beneficiario": "Presentarsi agli incontri concordati e al tirocinio.",
    "sostegni_servizi": "Il case manager segue il tirocinio; il Servizio Sociale sostiene il trasporto.",
}


# The monitoring's parts: CPI and Social Services before the case manager's record (in itinere),
# ATS and Social Services before the CPI's final record.
MONITORING_PARTS = ["monitoraggio_parte_cpi", "monitoraggio_parte_sociale"]
FINAL_PARTS = ["monitoraggio_parte_ats", "monitoraggio_parte_sociale"]


def part(field: str, referente: str) -> dict[str, Any]:
    """One service's part of a monitoring."""
    return {field: {"referente": referente, "partecipazione": "in_presenza",
                    "valutazione": "Per il servizio il percorso procede come concordato."}}


def local_day(moment: datetime) -> str:
    """The Rome date of an instant, ISO."""
    return moment.astimezone(ROME).date().isoformat()


@dataclass
class Percorso4:
    """The service with the shipped processes, the operators' accounts and a loopback SMTP server."""

    rt: Runtime
    clock: ManualClock
    smtp: SmtpServer
    actors: dict[str, Actor] = field(default_factory=dict)
    kept: bool = False  # workflows stay in memory between steps, as in a web process

    def _between_steps(self) -> None:
        """Unless kept, forget every live workflow: the next step loads its state from the database."""
        if not self.kept:
            self.rt.workflows.clear()

    # -- time ---------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The service clock, in Rome."""
        return self.rt.now().astimezone(ROME)

    def advance_to(self, moment: datetime) -> None:
        """Move the clock, running every timer and cut-off it passes at its moment, as the scheduler does."""
        clock_service.step_to(self.rt, moment, ADMIN)
        self._between_steps()

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by a duration."""
        self.advance_to(self.now() + delta)

    # -- cases and tasks ----------------------------------------------------------------------

    def open_case(self, zone: str, beneficiario: Mapping[str, Any], by: str = "", confirm: bool = False) -> str:
        """A CPI operator opens a case with the start form (`confirm`: a codice fiscale that differs, confirmed)."""
        operator = by or ("cpi.pistoia" if zone == "pistoiese" else "cpi.pescia")
        case_id = case_start.open_case(self.rt, "percorso4", {"zona": zone, "beneficiario": dict(beneficiario)},
                                       self.actors[operator], {CF_RULE} if confirm else ())
        self._between_steps()
        return case_id

    def inbox(self, instance_id: str | None = None, element: str | None = None,
              case_id: str | None = None) -> list[dict[str, Any]]:
        """Open tasks (inbox rows), oldest first."""
        with self.rt.uow(write=False) as uow:
            stmt = select(tasks).order_by(tasks.c.created_at, tasks.c.id)
            if instance_id is not None:
                stmt = stmt.where(tasks.c.instance_id == instance_id)
            if element is not None:
                stmt = stmt.where(tasks.c.element_id == element)
            if case_id is not None:
                stmt = stmt.where(tasks.c.case_id == case_id)
            return [dict(r) for r in uow.conn.execute(stmt).mappings()]

    def ready(self, case_id: str) -> list[str]:
        """Element ids of the open tasks about a case (its own and its equipe scheda)."""
        return sorted(t["element_id"] for t in self.inbox(case_id=case_id))

    def task_page(self, element: str, case_id: str, by: str) -> task_view.TaskView:
        """What the operator's task page shows (with the form's choices)."""
        found = self.inbox(element=element, case_id=case_id)
        assert len(found) == 1, f"expected one open {element} for {case_id}, found {self.ready(case_id)}"
        return task_view.open_task(self.rt, found[0]["id"], self.actors[by])

    def task_page_of(self, task: Mapping[str, Any], by: str) -> task_view.TaskView:
        """The page of one given inbox row, as this operator opens it."""
        return task_view.open_task(self.rt, str(task["id"]), self.actors[by])

    def complete(self, element: str, case_id: str, data: Mapping[str, Any], by: str) -> task_service.CompletionResult:
        """An operator opens the task page and submits the form, as the web does."""
        view = self.task_page(element, case_id, by)
        result = task_service.complete_task(self.rt, view.task["id"], dict(data), self.actors[by],
                                            options=allowed_values(view.options))
        self._between_steps()
        return result

    # -- reading the database -----------------------------------------------------------------

    def header(self, instance_id: str) -> dict[str, Any]:
        """An instance row without its state."""
        with self.rt.uow(write=False) as uow:
            row = uow.instances.header(instance_id)
            assert row is not None, instance_id
            return dict(row)

    def data(self, instance_id: str) -> dict[str, Any]:
        """The case's current data read from the database: what its open task sees, else its last step's."""
        own = [t["id"] for t in self.inbox(instance_id=instance_id)]
        self._between_steps()
        with self.rt.uow(write=False) as uow:
            found = instance_service.read_workflow(
                self.rt, uow, instance_id,
                lambda loaded: loaded.handle.task_data(own[0]) if own else _waiting_data(loaded.handle))
        self._between_steps()
        return found

    def meetings_of(self, case_id: str) -> list[dict[str, Any]]:
        """Meetings a case was booked on, with their agenda item, soonest first."""
        with self.rt.uow(write=False) as uow:
            rows = [dict(r) for r in uow.meetings.meetings_of_case(case_id)]
            for row in rows:
                row["items"] = {i["case_id"]: dict(i) for i in uow.meetings.agenda(row["id"])}
        return sorted(rows, key=lambda r: r["scheduled_at"])

    def meeting(self, meeting_id: str) -> dict[str, Any]:
        """A meeting row."""
        with self.rt.uow(write=False) as uow:
            row = uow.meetings.get(meeting_id)
            assert row is not None, meeting_id
            return dict(row)

    def agenda(self, meeting_id: str) -> list[str]:
        """Case ids on a meeting's agenda."""
        with self.rt.uow(write=False) as uow:
            return sorted(r["case_id"] for r in uow.meetings.agenda(meeting_id))

    def outbox_rows(self) -> list[dict[str, Any]]:
        """E-mail queued by the service, oldest first."""
        with self.rt.uow(write=False) as uow:
            return [dict(r) for r in uow.conn.execute(select(outbox).order_by(outbox.c.id)).mappings()]

    def audit(self, action: str, instance_id: str | None = None) -> list[dict[str, Any]]:
        """Audit events of one action, oldest first."""
        with self.rt.uow(write=False) as uow:
            stmt = select(audit_events).where(audit_events.c.action == action).order_by(audit_events.c.id)
            if instance_id is not None:
                stmt = stmt.where(audit_events.c.instance_id == instance_id)
            return opened(uow.conn, uow.conn.execute(stmt).mappings().all())

    def buffered(self) -> list[dict[str, Any]]:
        """Messages kept because nobody waited for them."""
        with self.rt.uow(write=False) as uow:
            return [dict(r) for r in uow.conn.execute(select(pending_messages)).mappings()]

    def attachments(self, case_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        """Attachments of a case (without bytes), newest first; only of one kind when given."""
        with self.rt.uow(write=False) as uow:
            return [dict(r) for r in uow.attachments.for_instance(case_id) if kind is None or r["kind"] == kind]

    # -- the steps of the path ----------------------------------------------------------------

    def hold_meeting(self, meeting_id: str, schede: Mapping[str, Mapping[str, Any]], by: str) -> str:
        """Wait for the meeting time, then the equipe writes one scheda per case; returns the meeting instance."""
        row = self.meeting(meeting_id)
        if self.now() < row["scheduled_at"]:
            self.advance_to(row["scheduled_at"] + timedelta(minutes=1))
        row = self.meeting(meeting_id)
        assert row["status"] == "convened" and row["instance_id"], row
        for case_id, values in schede.items():
            self.decide(case_id, values, by)
        return str(row["instance_id"])

    def decide(self, case_id: str, values: Mapping[str, Any], by: str, confirm_by: tuple[str, ...] = ()) -> None:
        """The equipe writes the scheda, then every required participant confirms it (by default the
        CPI and the Social Services of the case's zone, and the specialist referents named in `confirm_by`)."""
        self.complete("scheda_esito", case_id, values, by)
        zone = self.header(case_id)["zone"]
        people = [u for u, a in self.actors.items() if a.role in ("cpi", "sds") and zone in a.zones]
        people = [next(u for u in people if self.actors[u].role == r) for r in ("cpi", "sds")] + list(confirm_by)
        for username in people:
            self.confirm(case_id, username)

    def confirm(self, case_id: str, by: str, dissent: str | None = None) -> task_service.StepResult:
        """One participant confirms the equipe's decision (or records a dissent with its reason)."""
        actor = self.actors[by]
        case = self.header(case_id)
        mine = [t for t in self.inbox(element="conferma_decisione", case_id=case_id)
                if authorization.can_work_task(actor, t, case)]
        assert len(mine) == 1, f"{by} should have one confirmation of {case_id} to give, has {len(mine)}"
        answer = {"esito": "dissenso", "motivazione": dissent} if dissent else {"esito": "conferma"}
        view = task_view.open_task(self.rt, mine[0]["id"], actor)
        result = task_service.complete_task(self.rt, view.task["id"], {"conferma_partecipante": answer}, actor,
                                            options=allowed_values(view.options))
        self._between_steps()
        return result

    def book_first_appointment(self, case_id: str, manager: str, by: str, pick: int = 0) -> str:
        """The CPI picks a free slot offered by the form (the `pick`-th) and a case manager; returns the slot."""
        view = self.task_page("prenota_primo_appuntamento", case_id, by)
        slot = view.options["ats_slot"][pick][0]
        self.complete("prenota_primo_appuntamento", case_id, {"slot_appuntamento": slot, "case_manager": manager}, by)
        return slot

    def start_path(self, case_id: str, manager: str, slot: str) -> str:
        """The first meeting with the case manager takes place at the slot; returns the start date."""
        self.advance_to(datetime.fromisoformat(slot) + timedelta(hours=1))
        start = local_day(datetime.fromisoformat(slot))
        self.complete("primo_colloquio", case_id, {"presente_primo_colloquio": True, "data_avvio_percorso": start,
                                                   "note_primo_colloquio": "Motivato/a."}, manager)
        return start

    def monitoraggio(self, modifica: bool = False, chiusura: bool = False) -> dict[str, Any]:
        """A monitoring in itinere form filled in today."""
        data: dict[str, Any] = {
            "data_monitoraggio": local_day(self.now()),
            "partecipanti_monitoraggio": ["beneficiario", "ats", "centro_impiego", "servizio_sociale"],
            "andamento": "con_difficolta" if modifica else "regolare",
            "sintesi_monitoraggio": "Attività svolte regolarmente.",
            "modifica_sostanziale": modifica, "chiusura_anticipata": chiusura,
        }
        if modifica:
            data["descrizione_modifica"] = "Sostituire il tirocinio con un corso di formazione."
            data["elementi_modificati"] = ["misure"]
        return data

    def _zone_people(self, case_id: str) -> tuple[str, str]:
        """The CPI and Social Services operators of the case's zone."""
        pistoiese = self.header(case_id)["zone"] == "pistoiese"
        return ("cpi.pistoia", "sds.pistoia") if pistoiese else ("cpi.pescia", "sds.pescia")

    def monitor_parts(self, case_id: str) -> None:
        """The CPI's and the Social Services' parts of a monitoring in itinere."""
        cpi, sds = self._zone_people(case_id)
        self.complete("monitoraggio_parte_cpi", case_id, part("parte_cpi", "C. Pieri"), cpi)
        self.complete("monitoraggio_parte_sociale", case_id, part("parte_servizi_sociali", "S. Desideri"), sds)

    def monitor(self, case_id: str, data: Mapping[str, Any], manager: str) -> task_service.CompletionResult:
        """A monitoring in itinere: the CPI's and the Social Services' parts, then the case manager's record."""
        self.monitor_parts(case_id)
        return self.complete("monitoraggio", case_id, data, manager)

    def final_parts(self, case_id: str, manager: str = "cm.rossi") -> None:
        """The case manager's and the Social Services' parts of the final monitoring."""
        _, sds = self._zone_people(case_id)
        self.complete("monitoraggio_parte_ats", case_id, part("parte_ats", "Case manager"), manager)
        self.complete("monitoraggio_parte_sociale", case_id, part("parte_servizi_sociali", "S. Desideri"), sds)

    def final(self, case_id: str, data: Mapping[str, Any], by: str, manager: str = "cm.rossi"
              ) -> task_service.CompletionResult:
        """The final monitoring: the case manager's and the Social Services' parts, then the CPI's record."""
        self.final_parts(case_id, manager)
        return self.complete("monitoraggio_finale", case_id, data, by)


def _waiting_data(handle: Any) -> dict[str, Any]:
    """What the deepest waiting event sees (inside subprocesses the last completed task is the subprocess's)."""
    waiting = [t for t in handle.workflow.get_tasks_iterator() if t.state == TaskState.WAITING]
    if waiting:
        return dict(max(waiting, key=lambda t: t.depth).data)
    return dict(handle.data())


@cache
def _password_hash() -> str:
    return PasswordHasher().hash(PASSWORD)  # hashed once: argon2 is slow on purpose


def add_account(rt: Runtime, username: str, role: str, zones: list[str], name: str,
                services: list[str] | None = None) -> Actor:
    """An operator account (the accounts are the setting here, not what is tested)."""
    with rt.uow() as uow:
        uow.users.add({"username": username, "full_name": name, "password_hash": _password_hash(), "role": role,
                       "zones": zones, "services": services or [], "active": True, "failed_logins": 0,
                       "created_at": rt.now()})
        uow.commit()
    found = users.find_user(rt, username)
    assert found is not None
    return found.actor()


def create_accounts(rt: Runtime) -> dict[str, Actor]:
    """The operators of both zones (CPI, SdS, ATS case managers)."""
    return {username: add_account(rt, username, role, zones, name, services)
            for username, role, zones, name, services in ACCOUNTS}


def service_settings(settings: Settings, smtp_port: int, zones_dir: Path | None = None, kept: bool = False) -> Settings:
    """Test settings: no workflow kept in memory (unless `kept`), SMTP on loopback, the shipped (or given) zones."""
    return settings.with_overrides(
        workflow_cache_size=512 if kept else 0,
        zones_dir=zones_dir or ROOT / "zones",
        smtp=SmtpSettings(host="127.0.0.1", port=smtp_port, sender=SENDER, timeout=5.0),
    )


def build(
    settings: Settings, clock: ManualClock, smtp: SmtpServer, zones_dir: Path | None = None, kept: bool = False
) -> Percorso4:
    """A runtime with the shipped processes deployed from processes/ and forms/ and the accounts created."""
    rt = bootstrap(service_settings(settings, smtp.port, zones_dir, kept), clock=clock)
    rt.wall_clock = SystemClock()  # the test clock walks the year as a trainer's does: sessions keep real time
    check_every_state(rt)
    assert_cache_matches_database(rt)
    deployment.deploy(rt, deployment.read_sources(ROOT / "processes", ROOT / "forms"), ADMIN)
    return Percorso4(rt, clock, smtp, create_accounts(rt), kept=kept)


def check_every_state(rt: Runtime) -> None:
    """Compare every state the whole-path tests store with what SpiffWorkflow's own converters write."""
    serializer = rt.engine.serializer
    plain = serializer.dumps

    def dumps(workflow: Any) -> str:
        text = plain(workflow)
        assert_stored_as_spiff(serializer, workflow, text)
        return text

    serializer.dumps = dumps  # type: ignore[method-assign]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A running loopback SMTP server."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def p4(settings: Settings, clock: ManualClock, smtp: SmtpServer) -> Iterator[Percorso4]:
    """The Percorso 4 service on the test database, Monday 5 January 2026 08:00 in Rome."""
    service = build(settings, clock, smtp)
    yield service
    service.rt.db.dispose()


@pytest.fixture
def p4_kept(settings: Settings, clock: ManualClock, smtp: SmtpServer) -> Iterator[Percorso4]:
    """The same service keeping workflows in memory between steps, as a web process does."""
    service = build(settings, clock, smtp, kept=True)
    yield service
    service.rt.db.dispose()

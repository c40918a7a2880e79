"""The case file read model: the case in brief, its story, open tasks, documents, attachments, its actions.

Read in one transaction from the case record and the case's audit trail (no workflow is loaded).
Every read of a case is written to the audit log with the person who read it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ...domain import labels
from ...domain.errors import NotFound
from ...domain.model import Actor
from ...persistence.uow import UnitOfWork
from ..access import authorization, roles
from ..access import people
from ..integrations.idol_notice import notice_for
from ..workflow.instances import read_workflow
from ..workflow.runtime import ProcessVersion, Runtime
from . import case_records, case_story, monitoring

HISTORY_LIMIT = 500
STORY_LIMIT = 2000  # events of one case told in its file (reads and drafts are counted apart)
# Actions that need the case to be in its 12-month path, waiting for a request.
WAITING_ACTIONS = frozenset({"case.request_monitoring", "case.report_change"})
SCHEDA_FORM = "scheda_esito.schema.json"
SCHEDA_KEYS = ("scheda_esito", "esito_equipe")

# Audit actions in Italian: one table for every page (domain/labels.py).
ACTION_LABELS = labels.ACTIONS


@dataclass
class CaseFile:
    """Everything the case page (and its PDF, and the API) shows."""

    case: dict[str, Any]
    open_tasks: list[dict[str, Any]]
    attachments: list[dict[str, Any]]
    meetings: list[dict[str, Any]]
    has_scheda: bool
    workable: set[str] = field(default_factory=set)  # ids of open tasks this person may work
    record: dict[str, Any] | None = None
    summary: list[FactSection] = field(default_factory=list)
    story: list[case_story.StoryEvent] = field(default_factory=list)
    repeated: list[case_story.RepeatedEvent] = field(default_factory=list)
    actions: frozenset[str] = frozenset()  # the declared actions (roles.ACTIONS) this person may do on the case now
    idol_notice: str | None = None
    readers: case_story.Readers | None = None  # how the file names people, zones, services and times
    placements: list[dict[str, Any]] = field(default_factory=list)  # placements during the path, as recorded
    events: Sequence[Mapping[str, Any]] = ()  # the audit events the story was told from (reads left out)

    def person(self, username: str | None) -> str:
        """A username as the file names the person ("Sistema" for the service)."""
        return self.readers.person(username) if self.readers is not None and username else ""


@dataclass(frozen=True)
class FactSection:
    """A group of the case's facts in words: a heading and label/text pairs."""

    title: str
    facts: list[tuple[str, str]]


def visible_case(uow: UnitOfWork, case_id: str, actor: Actor) -> dict[str, Any]:
    """The case header, or NotFound when it does not exist or the person may not see it."""
    header = uow.instances.header(case_id)
    if header is None or not authorization.can_see_case(actor, header):
        raise NotFound("case not found")
    return dict(header)


def audit_read(uow: UnitOfWork, rt: Runtime, actor: Actor, case_id: str, action: str, at: datetime | None = None,
               **details: Any) -> None:
    """Record who read what of a case (administrators' reads are marked as such)."""
    data = {k: v for k, v in details.items() if v is not None}
    if authorization.is_admin(actor):
        data["lettura_amministrativa"] = True
    uow.audit.record(at or rt.now(), actor.username, action, case_id, data=data or None)


def history(uow: UnitOfWork, case_id: str, limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    """What happened to a case, oldest first, with Italian labels."""
    rows = uow.audit.for_instance(case_id, limit)
    return [_event(row) for row in rows]


def _event(row: Mapping[str, Any]) -> dict[str, Any]:
    data = row["data"] if isinstance(row["data"], Mapping) else {}
    message = data.get("message")
    detail = (data.get("task") or (labels.message(str(message)) if message else None) or data.get("filename")
              or data.get("documento") or "")
    return {
        "at": row["at"],
        "actor": row["actor"],
        "action": row["action"],
        "label": labels.action(row["action"]),
        "detail": str(detail),
        "element_id": row["element_id"],
    }


def open_case(rt: Runtime, case_id: str, actor: Actor, purpose: str = "page") -> CaseFile:
    """The case file in one transaction, audited as a read (`purpose` "pdf": as the printed document)."""
    tz = ZoneInfo(rt.settings.timezone)
    with rt.uow() as uow:
        header, record = uow.case_list.header_and_record(case_id)
        if header is None or not authorization.can_see_case(actor, header):
            raise NotFound("case not found")
        case = header
        version = rt.processes.get(uow, case["process_version_id"])
        events, repeated = uow.case_history.events_and_repeated(case_id, case_story.COLLAPSED, STORY_LIMIT)
        senders = {str(e["data"]["from"]) for e in events
                   if e["action"] == "message.delivered" and isinstance(e["data"], Mapping) and e["data"].get("from")}
        completions = uow.case_history.completions_on(senders)
        # Only the senders' completions are told with their forms: their rows name their versions.
        sender_versions = {str(c["instance_id"]): rt.processes.get(uow, c["process_version_id"])
                           for c in completions if c["process_version_id"] is not None}
        tasks = [dict(t) for t in uow.inbox_search.for_case(case_id)]
        files = [dict(a) for a in uow.attachments.for_instance(case_id)]
        meetings = [dict(m) for m in uow.agenda.for_case(case_id)]
        # Placements are recorded once the path has started: before that there is nothing to read.
        placed = ([dict(p) for p in uow.placements.of_case(case_id)]
                  if record is not None and record.get("path_start_date") is not None else [])
        waits = monitoring.waits(uow, case)
        now = rt.now()
        read = "document.viewed" if purpose == "pdf" else "case.viewed"
        if purpose == "pdf":
            audit_read(uow, rt, actor, case_id, read, now, documento="fascicolo", formato="pdf")
        else:
            audit_read(uow, rt, actor, case_id, read, now, via="api" if purpose == "api" else None)
        uow.commit()
    repeated = _counting_this_read(repeated, actor.username, read, now)
    # Cached for the worker (accounts change rarely, every file names people); a new account is read at once.
    names = people.names_for(rt, [case.get("case_manager"), *(e["actor"] for e in events),
                                  *(r["actor"] for r in repeated), *(c["actor"] for c in completions),
                                  *(a["uploaded_by"] for a in files), *(t.get("assignee") for t in tasks),
                                  *(p["recorded_by"] for p in placed)])
    readers = case_story.Readers(names, {z: zone.name for z, zone in rt.zones.items()},
                                 lambda s: people.service(rt, s, case.get("zone")), tz)

    def form_for(element_id: str | None, instance_id: str | None = None) -> Mapping[str, Any] | None:
        chosen = sender_versions.get(instance_id or "", version)
        if element_id is None:
            name = chosen.compiled.start_form
        else:
            meta = chosen.compiled.meta_for(element_id)
            name = meta.form if meta is not None else None
        return chosen.forms.get(name) if name else None

    schede = {delivered: {"actor": row["actor"], "values": (row["data"] or {}).get("data"),
                          "form": form_for(row["element_id"], str(row["instance_id"]))}
              for delivered, row in case_story.pair_schede(events, completions).items()}
    story = case_story.tell(events, schede, form_for, {str(m["id"]): m for m in meetings}, readers)
    workable = {t["id"] for t in tasks if authorization.can_work_task(actor, t, case)}
    latest_idol = next((e for e in reversed(events) if str(e["action"]).startswith("idol.")), None)
    has_scheda = bool(record and record.get("decision")) or _any_scheda(events)
    file = CaseFile(case, tasks, files, meetings, has_scheda, workable,
                    record=record, summary=summary(record, case, version, rt, readers),
                    story=story, repeated=case_story.counted(repeated, readers), actions=_actions(actor, case, waits),
                    idol_notice=notice_for(rt, case, latest_idol), readers=readers, placements=placed,
                    events=events)
    return file


def allowed_actions(rt: Runtime, case_id: str, actor: Actor) -> frozenset[str]:
    """The case actions this person may do on the case now (NotFound when they may not see it)."""
    with rt.uow(write=False) as uow:
        case = visible_case(uow, case_id, actor)
        waits = monitoring.waits(uow, case)
    return _actions(actor, case, waits)


def _counting_this_read(repeated: list[dict[str, Any]], username: str, action: str,
                        now: datetime) -> list[dict[str, Any]]:
    """The counted reads with the one being made now (its audit row is written with the commit)."""
    mine = next((r for r in repeated if r["actor"] == username and r["action"] == action), None)
    if mine is None:
        mine = {"actor": username, "action": action, "times": 0, "last_at": now}
    others = [r for r in repeated if r is not mine]
    return [{**mine, "times": int(mine["times"]) + 1, "last_at": now}, *others]


def _actions(actor: Actor, case: Mapping[str, Any], waits: bool) -> frozenset[str]:
    return frozenset(a for a in roles.ACTIONS if authorization.may(actor, a, case)
                     and (a not in WAITING_ACTIONS or waits))


def _any_scheda(events: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the equipe's scheda is in the case: delivered by a meeting, or written by a task of the case."""
    for e in events:
        data = e["data"] if isinstance(e["data"], Mapping) else {}
        if e["action"] == "message.delivered" and data.get("message") == case_story.EQUIPE_MESSAGE:
            return True
        form = data.get("data") if e["action"] == "task.completed" else None
        if isinstance(form, Mapping) and any(isinstance(form.get(k), Mapping) and form.get(k) for k in SCHEDA_KEYS):
            return True
    return False


# Facts of the record in the order of the path, with their Italian labels.
SECTIONS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Beneficiario", (("beneficiary_name", "Nome e cognome"), ("codice_fiscale", "Codice fiscale"),
                      ("birth_date", "Data di nascita"), ("zone", "Zona"))),
    ("Profilazione e assessment", (("profiled_at", "Profilazione completata il"),
                                   ("complex_needs", "Bisogni complessi"), ("percorso", "Percorso assegnato"),
                                   ("known_to_social_services", "Già conosciuto dal servizio sociale"),
                                   ("particular_needs", "Bisogni particolari"),
                                   ("specialist_services", "Servizi specialistici"))),
    ("Equipe multidisciplinare", (("equipe_at", "Riunione dell'equipe"), ("decision", "Decisione"),
                                  ("measures", "Misure"))),
    ("Primo appuntamento", (("first_appointment_at", "Data e ora"), ("first_appointment_place", "Luogo"),
                            ("case_manager", "Case manager"))),
    ("Percorso di 12 mesi", (("path_start_date", "Avvio del percorso"), ("path_end_at", "Fine del percorso"),
                             ("monitorings", "Monitoraggi svolti"), ("last_monitoring_date", "Ultimo monitoraggio"),
                             ("substantial_changes", "Modifiche sostanziali"),
                             ("last_substantial_change_date", "Ultima modifica sostanziale"),
                             ("last_substantial_change", "Modifica descritta"))),
    ("Chiusura", (("final_monitoring_date", "Monitoraggio finale"), ("outcome", "Esito del percorso"),
                  ("ended_at", "Caso concluso il"))),
)
DATE_FACTS = frozenset({"birth_date", "path_start_date", "last_monitoring_date", "last_substantial_change_date",
                        "final_monitoring_date", "path_end_at"})
TIME_FACTS = frozenset({"profiled_at", "equipe_at", "first_appointment_at", "ended_at"})
FACT_FIELDS = "case_file.fact_fields"  # the version's `derived` entry of `_fact_fields`


def summary(record: Mapping[str, Any] | None, case: Mapping[str, Any], version: ProcessVersion, rt: Runtime,
            readers: case_story.Readers) -> list[FactSection]:
    """The case record's facts in words, grouped as the path goes; facts not known yet are left out."""
    if record is None:
        return []
    fields = _fact_fields(rt, version)
    sections = []
    for title, facts in SECTIONS:
        shown = []
        for name, label in facts:
            text = _fact(name, record.get(name), fields.get(name), readers)
            if text:
                shown.append((label, text))
        if shown:
            sections.append(FactSection(title, shown))
    return sections


def _fact(name: str, value: Any, schema: Mapping[str, Any] | None, readers: case_story.Readers) -> str:
    if value is None or value == [] or (name in ("monitorings", "substantial_changes") and not value):
        return ""
    if name in TIME_FACTS:
        return readers.moment(value)
    if name in DATE_FACTS:
        moment = value.astimezone(readers.tz) if isinstance(value, datetime) else value
        return f"{moment:%d/%m/%Y}"
    if name == "zone":
        return readers.zones.get(str(value), str(value))
    if name == "case_manager":
        return readers.person(str(value))
    if name == "specialist_services":
        return "; ".join(readers.service(str(v)) for v in value)
    if name == "percorso":
        return f"Percorso {value}"
    if name in ("monitorings", "substantial_changes"):
        return str(value)
    return case_story.fact_text(value, schema, readers)


def _fact_fields(rt: Runtime, version: ProcessVersion) -> Mapping[str, Mapping[str, Any] | None]:
    """The form field of each declared fact of the version's case record (found once per version)."""
    found = version.derived.get(FACT_FIELDS)
    if found is None:
        declared = case_records.declaration(rt, version)
        found = {fact.name: _field(version.forms, fact.paths[0]) for fact in (declared.facts if declared else ())}
        version.derived[FACT_FIELDS] = found
    return found


def _field(forms: Mapping[str, Mapping[str, Any]], path: str) -> Mapping[str, Any] | None:
    """The form field a data path is answered in (its titles label the fact's codes)."""
    for name in sorted(forms):
        prop: Any = forms[name]
        for part in path.split("."):
            prop = (prop.get("properties") or {}).get(part) if isinstance(prop, Mapping) else None
        if isinstance(prop, Mapping):
            return prop
    return None


def scheda_data(rt: Runtime, uow: UnitOfWork, case: Mapping[str, Any]) -> dict[str, Any] | None:
    """The scheda di esito of a case: the equipe's outcome as the case's data holds it."""
    data = read_workflow(rt, uow, str(case["id"]), lambda loaded: loaded.handle.data())
    for key in SCHEDA_KEYS:
        value = data.get(key)
        if isinstance(value, Mapping) and value:
            return dict(value)
    return None


@dataclass
class SchedaEsito:
    """The scheda di esito with what a printable page or PDF needs."""

    case: dict[str, Any]
    values: dict[str, Any]
    form: dict[str, Any] | None


def scheda_esito(rt: Runtime, case_id: str, actor: Actor, as_pdf: bool = False) -> SchedaEsito:
    """The scheda di esito of a case (NotFound when the equipe has not written it yet); audited."""
    with rt.uow() as uow:
        case = visible_case(uow, case_id, actor)
        values = scheda_data(rt, uow, case)
        if values is None:
            raise NotFound("the scheda di esito does not exist yet")
        version = rt.processes.get(uow, case["process_version_id"])
        form = _scheda_form(rt, uow, version.forms)
        audit_read(uow, rt, actor, case_id, "document.viewed", documento="scheda di esito", formato="pdf" if as_pdf else "html")
        uow.commit()
    return SchedaEsito(case, values, form)


def _scheda_form(rt: Runtime, uow: UnitOfWork, forms: Mapping[str, Any]) -> dict[str, Any] | None:
    """The schema of the scheda: the `scheda_esito` group of whichever form the equipe fills in."""
    found = _scheda_schema(forms)
    if found is not None:
        return found
    for row in uow.versions.latest_headers():  # the equipe form may live with the meeting process
        found = _scheda_schema(rt.processes.get(uow, int(row["id"])).forms)
        if found is not None:
            return found
    return None


def _scheda_schema(forms: Mapping[str, Any]) -> dict[str, Any] | None:
    names = sorted(forms, key=lambda name: name != SCHEDA_FORM)
    for name in names:
        prop = (forms[name].get("properties") or {}).get(SCHEDA_KEYS[0])
        if isinstance(prop, Mapping) and prop.get("type") == "object":
            return dict(prop)
    return None

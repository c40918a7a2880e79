"""Data edits that cannot break a case: each field checked against what the process declares, the
consequences (tasks, equipe agenda, case record) shown before saving and carried out with the edit."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ...domain.errors import AlreadyEnded, EditRefused
from ...domain.model import ENDED_STATUSES, Actor
from ...engine.inspection import current_data, edit_current_data
from ...forms import validation
from ...persistence.uow import UnitOfWork
from ..access import authorization
from ..cases import case_records
from ..meetings import calendar
from ..meetings.equipe import CONVENED, PLANNED, book_in, tz_of
from ..workflow.runtime import ProcessVersion, Runtime
from ..workflow.stepping import Loaded, load, save

PROTECTED = frozenset({"case_id"})  # messages and the inbox find the case by it
MAX_REASON = 500
EDITED = "instance.data_edited"


@dataclass
class EditPlan:
    """What an edit changes (dry run) or changed, and what follows from it."""

    reason: str
    changes: list[dict[str, Any]] = field(default_factory=list)  # {field, before, after, removed}
    tasks_moved: list[dict[str, Any]] = field(default_factory=list)  # {task_id, name, from_zone, to_zone}
    meetings: list[dict[str, Any]] = field(default_factory=list)  # {action: withdrawn|booked, meeting, at}
    facts: dict[str, list[Any]] = field(default_factory=dict)  # case record fact -> [before, after]
    applied: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (API, audit)."""
        result = asdict(self)
        result["facts"] = {k: [_plain(v) for v in pair] for k, pair in self.facts.items()}
        return result


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (list, "array"),
               (dict, "object"), (type(None), "null"))


def _json_type(value: Any) -> str:
    return next(name for kind, name in _JSON_TYPES if isinstance(value, kind))


def declared_properties(version: ProcessVersion, name: str) -> list[Mapping[str, Any]]:
    """The schemas the version's forms give a top-level field (none when no form asks for it)."""
    found = []
    for form in version.forms.values():
        prop = (form.get("properties") or {}).get(name) if isinstance(form, Mapping) else None
        if isinstance(prop, Mapping):
            found.append(prop)
    return found


def zone_keys(rt: Runtime, version: ProcessVersion) -> frozenset[str]:
    """The top-level data keys the case's zone is read from."""
    declared = case_records.declaration(rt, version)
    return frozenset(p.split(".")[0] for p in declared.paths_of("zone")) if declared is not None else frozenset()


def field_errors(rt: Runtime, version: ProcessVersion, data: Mapping[str, Any], changes: Mapping[str, Any],
                 removed: Collection[str]) -> dict[str, list[str]]:
    """Per-field problems of an edit (`changes.<field>`), in Italian like the forms' own messages."""
    errors: dict[str, list[str]] = {}
    zone_fields = zone_keys(rt, version)
    for name in [*changes, *removed]:
        key = f"changes.{name}"
        if not isinstance(name, str) or not name.isidentifier():
            errors.setdefault(key, []).append("nome di campo non valido")
        elif name in PROTECTED or (name in removed and name in zone_fields):
            errors.setdefault(key, []).append(f"il campo {name} non si può modificare né togliere")
    for name, value in changes.items():
        if f"changes.{name}" in errors:
            continue
        key = f"changes.{name}"
        if name in zone_fields and value not in rt.zones:
            errors.setdefault(key, []).append(f"zona sconosciuta {value!r}; zone previste: {', '.join(sorted(rt.zones))}")
            continue
        schemas = declared_properties(version, name)
        for prop in schemas:
            found = validation.validate({"type": "object", "properties": {name: prop}}, {name: value},
                                        forms=version.forms)
            for path, messages in found.items():
                target = f"changes.{path}" if path != "_form" else key
                errors.setdefault(target, []).extend(m for m in messages if m not in errors.get(target, []))
        if not schemas:
            if name not in data:
                errors.setdefault(key, []).append("nessun modulo del processo prevede questo campo")
            elif _json_type(value) != _json_type(data[name]) and data[name] is not None:
                errors.setdefault(key, []).append(
                    f"serve un valore di tipo {_json_type(data[name])}, come quello attuale (nessun modulo prevede il campo)")
    return errors


def _clean_reason(reason: str | None) -> str:
    return " ".join((reason or "").split())[:MAX_REASON]


def _zone_consequences(rt: Runtime, uow: UnitOfWork, loaded: Loaded, new_zone: str, data: Mapping[str, Any],
                       now: datetime, plan: EditPlan, errors: dict[str, list[str]], key: str) -> list[Mapping[str, Any]]:
    """Tasks and meetings that follow a new zone; refusals when something cannot follow. Returns the agendas to leave."""
    case_id = loaded.id
    zone = rt.zones[new_zone]
    facts = case_records.declared_facts(rt, loaded.version, data) or {}
    services = [str(s) for s in (facts.get("specialist_services") or [])]
    missing = [s for s in services if zone.service(s) is None]
    if missing:
        errors.setdefault(key, []).append(f"la zona {new_zone} non ha il servizio specialistico {', '.join(missing)} "
                                          "invitato per questo caso")
    tasks = uow.inbox_search.for_case(case_id)
    if any(row["instance_id"] != case_id for row in tasks):
        errors.setdefault(key, []).append("l'equipe sta discutendo il caso: cambiare la zona dopo la sua decisione")
    bookings = uow.bookings.future_of(case_id, now)
    if bookings:
        errors.setdefault(key, []).append(
            f"il primo appuntamento del {bookings[0]['slot_at'].isoformat()} è prenotato con un case manager della "
            "zona attuale: riportare prima il caso alla prenotazione")
    for row in tasks:
        if row["zone"] != new_zone:
            plan.tasks_moved.append({"task_id": row["id"], "name": row["name"], "from_zone": row["zone"],
                                     "to_zone": new_zone})
    meetings = uow.meetings.meetings_of_case(case_id)
    agendas = [row for row in meetings if row["status"] == PLANNED and row["zone"] != new_zone]
    convened = [row for row in meetings if row["status"] == CONVENED and row["scheduled_at"] > now]
    if convened:
        errors.setdefault(key, []).append(f"il caso è nell'ordine del giorno già inviato della riunione {convened[0]['id']}")
    for row in agendas:
        plan.meetings.append({"action": "withdrawn", "meeting": row["id"], "at": row["scheduled_at"].isoformat()})
    if agendas and not missing:
        slot = calendar.next_open_slot(zone, now, tz_of(rt))
        plan.meetings.append({"action": "booked", "meeting": slot.meeting_id, "at": slot.starts_at.isoformat()})
    return agendas


def edit(
    rt: Runtime, actor: Actor, instance_id: str, changes: Mapping[str, Any], reason: str | None,
    removed: Collection[str] = (), dry_run: bool = False, whole: bool = False,
) -> EditPlan:
    """Preview (`dry_run`) or save an edit of a case's top-level data; EditRefused lists per-field errors.

    With `whole`, `changes` is the whole new data: the fields it leaves out are removed.
    """
    authorization.require_admin(actor)
    text = _clean_reason(reason)
    now = rt.now()
    with rt.uow(write=not dry_run) as uow:
        loaded = load(rt, uow, instance_id, lock=not dry_run)
        try:
            if whole:
                removed = [k for k in current_data(loaded.handle) if k not in changes]
            plan, agendas, data_after = _plan(rt, uow, loaded, changes, removed, text, now)
            if dry_run:
                return plan
            _apply(rt, uow, loaded, plan, agendas, data_after, now, actor)
            uow.commit()
        finally:
            if dry_run:
                rt.workflows.put(loaded.id, loaded.unchanged())
    plan.applied = True
    return plan


def _plan(rt: Runtime, uow: UnitOfWork, loaded: Loaded, changes: Mapping[str, Any], removed: Collection[str],
          text: str, now: datetime) -> tuple[EditPlan, list[Mapping[str, Any]], dict[str, Any]]:
    header = loaded.header
    if header["status"] in ENDED_STATUSES:
        raise AlreadyEnded(f"the case is {header['status']}: its data can no longer be edited", header["status"])
    before = current_data(loaded.handle)
    errors: dict[str, list[str]] = {} if text else {"reason": ["indicare il motivo"]}
    changed = {k: v for k, v in changes.items() if k not in before or before[k] != v}
    gone = [k for k in removed if k in before]
    if not changed and not gone:
        errors.setdefault("changes", []).append("nessun dato cambia")
    errors.update(field_errors(rt, loaded.version, before, changed, gone))
    plan = EditPlan(text, [{"field": k, "before": before.get(k), "after": v, "removed": False}
                           for k, v in sorted(changed.items())]
                    + [{"field": k, "before": before[k], "after": None, "removed": True} for k in sorted(gone)])
    after = {k: v for k, v in {**before, **changed}.items() if k not in gone}
    agendas: list[Mapping[str, Any]] = []
    for key in zone_keys(rt, loaded.version) & set(changed):
        if not any(e for e in errors.get(f"changes.{key}", [])):
            agendas = _zone_consequences(rt, uow, loaded, str(changed[key]), after, now, plan, errors,
                                         f"changes.{key}")
    if errors:
        raise EditRefused("the edit does not fit the process", errors)
    old_facts = case_records.declared_facts(rt, loaded.version, before) or {}
    new_facts = case_records.declared_facts(rt, loaded.version, after) or {}
    plan.facts = {k: [old_facts.get(k), v] for k, v in new_facts.items() if old_facts.get(k) != v}
    return plan, agendas, after


def _apply(rt: Runtime, uow: UnitOfWork, loaded: Loaded, plan: EditPlan, agendas: list[Mapping[str, Any]],
           after: dict[str, Any], now: datetime, actor: Actor) -> None:
    header = loaded.header
    changed = {c["field"]: c["after"] for c in plan.changes if not c["removed"]}
    gone = [c["field"] for c in plan.changes if c["removed"]]
    if agendas:  # the equipe of the new zone takes the case at its next open meeting
        for row in agendas:
            uow.meetings.remove_from_agenda(row["id"], loaded.id)
            uow.audit.record(now, actor.username, "equipe.withdrawn", loaded.id,
                             data={"meeting": row["id"], "reason": "the zone of the case was changed"})
        booking = book_in(rt, uow, after, loaded.id, now)
        changed.update(booking)  # the data the equipe's booking step would have set
    edit_current_data(loaded.handle, changed, gone)
    snapshot = rt.engine.snapshot(loaded.handle, now)
    audit = {"reason": plan.reason, "before": {c["field"]: c["before"] for c in plan.changes},
             "after": changed, "removed": gone, "consequences": {"tasks_moved": plan.tasks_moved,
                                                                  "meetings": plan.meetings}}
    save(rt, uow, loaded, snapshot, now, actor, EDITED, audit,
         extra={"status": header["status"], "suspended_status": header["suspended_status"],
                "next_due_at": header["next_due_at"], "current_step": header["current_step"],
                "error": header["error"]},
         keep=False)
    fields = case_records.task_fields(rt, loaded.version, snapshot.data)
    zone = next((changed[k] for k in zone_keys(rt, loaded.version) if k in changed), None)
    if zone is not None:
        fields["zone"] = zone
    if set(changed) | set(gone):
        uow.inbox.update_case_fields(loaded.id, fields)

"""The administrators' incident desk: incidents and their groups, and the repairs made from an incident
(retry, skip, correct the data and retry, close), each one use case in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...domain.errors import EditRefused, IncidentClosed, InputRefused, NotFound, NotInError, StillInError
from ...domain.incident_kinds import KINDS, explain
from ...domain.model import Actor, InstanceStatus
from ...persistence.incidents import OPEN, RESOLVED
from ...persistence.uow import UnitOfWork
from ..access import authorization
from ..workflow import instances as instance_service
from ..workflow.runtime import Runtime
from ..workflow.stepping import Loaded, load, save, service_handler
from . import data_edits
from . import incidents as tracking

GROUP_LIMIT = 200  # incidents repaired by one group action; the rest stay for the next one
MAX_TEXT = 2000
STATUSES = (OPEN, RESOLVED)
ACTIONS = ("retry", "skip", "resolve")


@dataclass
class Incident:
    """One incident as the desk shows it: the case, the element, the words, the technical detail, its story."""

    id: int
    instance_id: str
    process_id: str
    version: int
    process_version_id: int
    element_id: str | None
    element_name: str | None
    kind: str
    explanation: str  # what happened, in plain Italian
    advice: str  # what usually fixes it
    message: str  # the technical message
    detail: dict[str, Any]
    status: str
    attempts: int
    opened_at: datetime
    last_failed_at: datetime
    assignee: str | None
    resolution: str | None
    resolution_note: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    instance_status: str
    beneficiary_name: str | None
    zone: str | None
    comments: list[dict[str, Any]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # what can be done from it now


@dataclass
class IncidentGroup:
    """Open incidents alike: same process version, element and kind."""

    process_id: str
    process_version_id: int
    version: int
    element_id: str | None
    element_name: str | None
    kind: str
    explanation: str
    count: int
    attempts: int
    first_at: datetime
    last_at: datetime


@dataclass
class IncidentPage:
    """A page of incidents and how many match."""

    items: list[Incident]
    total: int


@dataclass
class GroupOutcome:
    """What a group action did to each incident."""

    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)  # incident id -> error code


def _view(row: Mapping[str, Any], comments: list[dict[str, Any]] | None = None) -> Incident:
    explanation, advice = explain(str(row["kind"]))
    detail = row["detail"] if isinstance(row["detail"], Mapping) else {}
    incident = Incident(
        id=int(row["id"]), instance_id=row["instance_id"], process_id=row["process_id"], version=int(row["version"]),
        process_version_id=int(row["process_version_id"]), element_id=row["element_id"],
        element_name=row["element_name"], kind=str(row["kind"]), explanation=explanation, advice=advice,
        message=row["message"], detail=dict(detail), status=row["status"], attempts=int(row["attempts"]),
        opened_at=row["opened_at"], last_failed_at=row["last_failed_at"], assignee=row["assignee"],
        resolution=row["resolution"], resolution_note=row["resolution_note"], resolved_by=row["resolved_by"],
        resolved_at=row["resolved_at"], instance_status=row["instance_status"],
        beneficiary_name=row["beneficiary_name"], zone=row["zone"], comments=comments or [])
    incident.actions = _actions(incident)
    return incident


def _actions(incident: Incident) -> list[str]:
    if incident.status != OPEN:
        return ["comment"]
    actions = ["assign", "comment"]
    if incident.instance_status == InstanceStatus.ERROR:
        actions += ["retry", "skip", "edit_and_retry"]
    else:
        actions.append("resolve")
    return actions


def list_incidents(rt: Runtime, actor: Actor, status: str | None = OPEN, process_id: str | None = None,
                   version_id: int | None = None, element_id: str | None = None, kind: str | None = None,
                   assignee: str | None = None, limit: int = 50, offset: int = 0) -> IncidentPage:
    """Incidents matching the filters, the latest failure first."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        rows, total = uow.incidents.search(status, process_id, version_id, element_id, kind, assignee,
                                           max(1, min(limit, 200)), max(0, offset))
    return IncidentPage([_view(r) for r in rows], total)


def incident_groups(rt: Runtime, actor: Actor) -> list[IncidentGroup]:
    """The open incidents grouped by process version, element and kind, the latest failure first."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        rows = uow.incidents.groups(OPEN)
    return [IncidentGroup(r["process_id"], int(r["process_version_id"]), int(r["version"]), r["element_id"],
                          r["element_name"], r["kind"], explain(str(r["kind"]))[0], int(r["count"]),
                          int(r["attempts"] or 0), r["first_at"], r["last_failed_at"]) for r in rows]


def get_incident(rt: Runtime, actor: Actor, incident_id: int) -> Incident:
    """One incident with its comments."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        row = uow.incidents.get(incident_id)
        if row is None:
            raise NotFound(f"incident {incident_id} does not exist")
        comments = [dict(c) for c in uow.incidents.comments(incident_id)]
    return _view(row, comments)


def open_incident_id(rt: Runtime, actor: Actor, instance_id: str) -> int | None:
    """The id of the instance's open incident, if it has one."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        row = uow.incidents.open_of(instance_id)
    return int(row["id"]) if row is not None else None


def _text(value: str | None, name: str, required: bool = True) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise InputRefused(f"{name}-required", f"{name} is required", {name: ["required"]})
    if len(text) > MAX_TEXT:
        raise InputRefused("too-long", f"{name} is too long", {name: [f"at most {MAX_TEXT} characters"]})
    return text or None


def _open(uow: Any, incident_id: int) -> Mapping[str, Any]:
    row = uow.incidents.get(incident_id)
    if row is None:
        raise NotFound(f"incident {incident_id} does not exist")
    if row["status"] != OPEN:
        raise IncidentClosed(f"incident {incident_id} is resolved already")
    return row


def assign(rt: Runtime, actor: Actor, incident_id: int, to_me: bool = True) -> None:
    """Say that I am looking at the incident (or that nobody is)."""
    authorization.require_admin(actor)
    now = rt.now()
    with rt.uow() as uow:
        row = _open(uow, incident_id)
        who = actor.username if to_me else None
        uow.incidents.update(incident_id, {"assignee": who})
        uow.audit.record(now, actor.username, "incident.assigned", row["instance_id"], None, row["element_id"],
                         {"incident": incident_id, "assignee": who})
        uow.commit()


def comment(rt: Runtime, actor: Actor, incident_id: int, text: str) -> None:
    """Add a comment to an incident (open or resolved)."""
    authorization.require_admin(actor)
    body = _text(text, "text")
    now = rt.now()
    with rt.uow() as uow:
        row = uow.incidents.get(incident_id)
        if row is None:
            raise NotFound(f"incident {incident_id} does not exist")
        uow.incidents.add_comment(incident_id, now, actor.username, str(body))
        uow.commit()


def retry(rt: Runtime, actor: Actor, incident_id: int) -> bool:
    """Run the failed step again; True when the instance left its error (the incident is then resolved)."""
    authorization.require_admin(actor)
    instance_id = _instance_of(rt, incident_id)
    instance_service.retry(rt, instance_id, actor)
    return _left_error(rt, instance_id)


def _locked_in_error(rt: Runtime, uow: UnitOfWork, incident_id: int, refusal: str
                     ) -> tuple[Mapping[str, Any], Loaded]:
    """The open incident and its instance, locked and loaded; NotInError (`refusal`) when it left its error."""
    row = _open(uow, incident_id)
    loaded = load(rt, uow, row["instance_id"], lock=True)
    if loaded.header["status"] != InstanceStatus.ERROR:
        rt.workflows.put(loaded.id, loaded.unchanged())
        raise NotInError(refusal, loaded.header["status"])
    return row, loaded


def skip(rt: Runtime, actor: Actor, incident_id: int, reason: str) -> bool:
    """Complete the failed step without running it and go on; recorded with who and why."""
    authorization.require_admin(actor)
    why = _text(reason, "reason")
    now = rt.now()
    with rt.uow() as uow:
        row, loaded = _locked_in_error(rt, uow, incident_id,
                                       "only an instance in error can have its failed step skipped")
        snapshot = rt.engine.skip_failed(loaded.handle, now, service_handler(rt, uow, loaded.id, now))
        save(rt, uow, loaded, snapshot, now, actor, "incident.skipped",
             {"incident": incident_id, "reason": why, "element": row["element_id"]},
             element_id=row["element_id"], extra={"retry_count": 0})
        uow.commit()
    return _left_error(rt, row["instance_id"])


def edit_and_retry(rt: Runtime, actor: Actor, incident_id: int, changes: Mapping[str, Any], reason: str) -> bool:
    """Correct fields of the failed step's data and run it again, in one step; audited with before and after."""
    authorization.require_admin(actor)
    why = _text(reason, "reason")
    if not isinstance(changes, Mapping) or not changes:
        raise InputRefused("nothing-changed", "no field to change", {"data": ["give at least one field"]})
    bad = sorted(str(k) for k in changes if not isinstance(k, str) or not k.isidentifier() or k in data_edits.PROTECTED)
    if bad:
        raise InputRefused("invalid-names", "fields that cannot be changed",
                           {"data": [f"cannot change: {', '.join(bad)}"]})
    now = rt.now()
    with rt.uow() as uow:
        row, loaded = _locked_in_error(rt, uow, incident_id,
                                       "only an instance in error can be corrected and retried")
        before = rt.engine.failed_data(loaded.handle)
        errors = data_edits.field_errors(rt, loaded.version, before, changes, [])
        for key in data_edits.zone_keys(rt, loaded.version) & set(changes):
            errors.setdefault(f"changes.{key}", []).append(
                "la zona si cambia con «Correggi un dato» dalla pagina dell'istanza, che sposta anche attività e riunioni")
        if errors:
            rt.workflows.put(loaded.id, loaded.unchanged())
            raise EditRefused("the edit does not fit the process", errors)
        snapshot = rt.engine.retry_with(loaded.handle, changes, now, service_handler(rt, uow, loaded.id, now))
        audit = {"incident": incident_id, "reason": why, "before": {k: before.get(k) for k in sorted(changes)},
                 "after": dict(changes)}
        save(rt, uow, loaded, snapshot, now, actor, "incident.edited_and_retried", audit,
             element_id=row["element_id"], extra={"retry_count": 0})
        uow.commit()
    return _left_error(rt, row["instance_id"])


def resolve(rt: Runtime, actor: Actor, incident_id: int, note: str) -> None:
    """Close an incident whose instance is no longer in error (repaired some other way), saying how."""
    authorization.require_admin(actor)
    why = _text(note, "note")
    now = rt.now()
    with rt.uow() as uow:
        row = _open(uow, incident_id)
        if row["instance_status"] == InstanceStatus.ERROR:
            raise StillInError("the instance is still in error: retry, skip, move or terminate it first")
        tracking.resolved(uow, row["instance_id"], "by_hand", actor.username, now, why)
        uow.audit.record(now, actor.username, "incident.resolved", row["instance_id"], None, row["element_id"],
                         {"incident": incident_id, "note": why})
        uow.commit()


def act_on_group(rt: Runtime, actor: Actor, version_id: int, element_id: str | None, kind: str, action: str,
                 reason: str | None = None) -> GroupOutcome:
    """Retry, skip or close every open incident of a group (at most GROUP_LIMIT), each in its own step."""
    authorization.require_admin(actor)
    if action not in ACTIONS:
        raise InputRefused("unknown-action", "unknown action", {"action": [f"one of {', '.join(ACTIONS)}"]})
    if action in ("skip", "resolve"):
        _text(reason, "reason")
    if kind not in KINDS:
        raise NotFound(f"no incidents of kind {kind!r}")
    with rt.uow(write=False) as uow:
        ids = uow.incidents.in_group(version_id, element_id, kind, GROUP_LIMIT)
    outcome = GroupOutcome()
    for incident_id in ids:
        try:
            if action == "retry":
                ok = retry(rt, actor, incident_id)
            elif action == "skip":
                ok = skip(rt, actor, incident_id, str(reason))
            else:
                resolve(rt, actor, incident_id, str(reason))
                ok = True
        except Exception as exc:  # noqa: BLE001 - one incident's refusal must not stop the others
            outcome.failed[incident_id] = getattr(exc, "code", "error")
            continue
        if ok:
            outcome.done.append(incident_id)
        else:
            outcome.failed[incident_id] = "failed-again"
    return outcome


def _instance_of(rt: Runtime, incident_id: int) -> str:
    with rt.uow(write=False) as uow:
        row = _open(uow, incident_id)
    return str(row["instance_id"])


def _left_error(rt: Runtime, instance_id: str) -> bool:
    with rt.uow(write=False) as uow:
        header = uow.instances.header(instance_id)
    return header is not None and header["status"] != InstanceStatus.ERROR

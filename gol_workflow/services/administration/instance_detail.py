"""Everything an administrator sees about one instance; each read of its case data is audited."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...domain.errors import NotFound
from ...domain.model import ENDED_STATUSES, Actor, InstanceStatus
from ...engine.inspection import (
    PathStep,
    path,
    WaitingEvent,
    current_data,
    diagram_states,
    element_names,
    waiting_events,
)
from ...persistence.uow import UnitOfWork
from ..access import authorization
from ..cases.case_file import audit_read
from ..cases.data_masking import is_sensitive, masked, sensitive_keys
from .instance_summary import InstanceSummary, find_summary
from ..workflow.instances import read_workflow
from ..workflow.runtime import Runtime
from ..workflow.stepping import Loaded

AUDIT_LIMIT = 500  # the newest events of the trail shown on the page
HISTORY_LIMIT = 1000  # completed tasks listed (a case has a few dozen)


@dataclass(frozen=True)
class VersionRef:
    """A deployed version an instance could move to."""

    id: int
    version: int
    deployed_at: datetime


@dataclass(frozen=True)
class TaskRecord:
    """A completed user task: who, when, with what data."""

    at: datetime
    actor: str
    task: str
    element_id: str | None
    event_id: int
    data: dict[str, Any]
    masked_keys: list[str]


@dataclass
class InstanceDetail:
    """The instance page: status, diagram markers, waits, tasks, history, data and what may be done."""

    summary: InstanceSummary
    process_name: str
    content_hash: str
    deployed_by: str
    deployed_at: datetime
    diagram: str | None
    element_states: dict[str, str]
    element_names: dict[str, str]
    waiting: list[WaitingEvent]
    error: dict[str, Any] | None
    ready_tasks: list[dict[str, Any]]
    history: list[TaskRecord]
    audit: list[dict[str, Any]]
    data: dict[str, Any]
    masked_keys: list[str]
    newer_versions: list[VersionRef] = field(default_factory=list)
    operations: frozenset[str] = frozenset()
    path: list[dict[str, Any]] = field(default_factory=list)  # every element that ran, in order


def allowed_operations(status: str, has_newer: bool) -> frozenset[str]:
    """What an administrator may do to an instance in this status."""
    ops: set[str] = set()
    if status in (InstanceStatus.RUNNING, InstanceStatus.WAITING, InstanceStatus.ERROR):
        ops.add("suspend")
    if status == InstanceStatus.SUSPENDED:
        ops.update({"resume", "edit"})
    if status == InstanceStatus.ERROR:
        ops.add("retry")
    if status not in ENDED_STATUSES:
        ops.add("terminate")
        if has_newer:
            ops.add("migrate")
    return frozenset(ops)


def _live(loaded: Loaded) -> tuple[dict[str, str], dict[str, str], list[WaitingEvent], dict[str, Any], list[PathStep]]:
    handle = loaded.handle
    return (diagram_states(handle), element_names(handle), waiting_events(handle), current_data(handle),
            path(handle))


PEOPLE_KINDS = frozenset({"userTask", "manualTask"})  # done by a person: named from the audit log


def path_rows(steps: list[PathStep], completions: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The path with who did each step: the person who completed a user task, else the service."""
    who = {str(row["task_id"]): row["actor"] for row in completions if row.get("task_id")}
    return [{"element_id": s.element_id, "name": s.name, "type": s.kind, "state": s.state,
             "started_at": s.started_at, "ended_at": s.ended_at,
             "by": who.get(s.task_id) or (None if s.kind in PEOPLE_KINDS or s.ended_at is None else "system")}
            for s in steps]


def newer_versions(uow: UnitOfWork, process_id: str, version: int) -> list[VersionRef]:
    """Versions of a process deployed after `version`, newest first."""
    rows = [r for r in uow.versions.list_all() if r["process_id"] == process_id and int(r["version"]) > version]
    return [VersionRef(int(r["id"]), int(r["version"]), r["deployed_at"]) for r in rows]


def _history(events: list[Mapping[str, Any]]) -> list[TaskRecord]:
    records = []
    for row in events:
        if row["action"] != "task.completed":
            continue
        payload = row["data"] if isinstance(row["data"], Mapping) else {}
        data = payload.get("data") if isinstance(payload.get("data"), Mapping) else {}
        records.append(TaskRecord(row["at"], row["actor"], str(payload.get("task") or row["element_id"] or ""),
                                  row["element_id"], int(row["id"]), masked(data), sensitive_keys(data)))
    return records


def _audit_rows(events: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for row in events:
        data = row["data"] if isinstance(row["data"], Mapping) else {}
        if row["action"] == "task.completed":
            data = {k: v for k, v in data.items() if k != "data"}  # shown (masked) in the task history
        rows.append({"id": row["id"], "at": row["at"], "actor": row["actor"], "action": row["action"],
                     "element_id": row["element_id"], "task_id": row["task_id"], "data": _mask_nested(data)})
    return rows


def _mask_nested(data: Mapping[str, Any]) -> dict[str, Any]:
    """Audit details with sensitive values hidden (e.g. the data before and after an edit)."""
    result: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping) and key in ("before", "after", "data"):
            result[key] = masked(value)
        else:
            result[key] = masked({key: value})[key]
    return result


def instance_detail(rt: Runtime, actor: Actor, instance_id: str, reveal: bool = False) -> InstanceDetail:
    """The instance page's content; sensitive data masked unless `reveal` (which is audited as such)."""
    authorization.require_admin(actor)
    with rt.uow() as uow:
        summary = find_summary(uow, instance_id)
        version = uow.versions.get(summary.version_id)
        if version is None:
            raise NotFound(f"process version {summary.version_id} does not exist")
        states, names, waiting, data, steps = read_workflow(rt, uow, instance_id, _live)
        events = uow.instance_search.audit_trail(instance_id, AUDIT_LIMIT)
        completed = list(reversed(uow.instance_search.audit_trail(instance_id, HISTORY_LIMIT, "task.completed")))
        tasks = [_task_row(t) for t in uow.inbox.for_instance(instance_id)]
        newer = newer_versions(uow, summary.process_id, summary.version)
        header = uow.instances.header(instance_id)
        keys = sensitive_keys(data)
        audit_read(uow, rt, actor, instance_id, "instance.data_revealed" if reveal else "instance.inspected",
                   campi=keys if reveal else None)
        uow.commit()
    error = header["error"] if header is not None and isinstance(header["error"], Mapping) else None
    return InstanceDetail(
        summary=summary, process_name=version["name"], content_hash=version["content_hash"],
        deployed_by=version["deployed_by"], deployed_at=version["deployed_at"],
        diagram=version["files"].get(version["main_file"]), element_states=states, element_names=names,
        waiting=waiting, error=dict(error) if error else None, ready_tasks=tasks, history=_history(completed),
        audit=_audit_rows(events), data=data if reveal else masked(data), masked_keys=[] if reveal else keys,
        newer_versions=newer, operations=allowed_operations(summary.status, bool(newer)),
        path=path_rows(steps, completed),
    )


def _task_row(row: Mapping[str, Any]) -> dict[str, Any]:
    values = {k: row[k] for k in ("id", "element_id", "name", "lane", "zone", "assignee", "created_at", "due_at")}
    values["has_draft"] = bool(row["draft"])
    return values


def reveal_value(rt: Runtime, actor: Actor, instance_id: str, key: str) -> Any:
    """The value of one sensitive top-level field of an instance's current data; the opening is audited."""
    authorization.require_admin(actor)
    with rt.uow() as uow:
        find_summary(uow, instance_id)
        data = read_workflow(rt, uow, instance_id, lambda loaded: current_data(loaded.handle))
        if key not in data:
            raise NotFound(f"the instance has no field {key!r}")
        audit_read(uow, rt, actor, instance_id, "instance.data_revealed", campi=[key], sensibile=is_sensitive(key))
        uow.commit()
    return data[key]


def reveal_task_data(rt: Runtime, actor: Actor, instance_id: str, event_id: int) -> dict[str, Any]:
    """The full data submitted with one completed task; the opening is audited."""
    authorization.require_admin(actor)
    with rt.uow() as uow:
        find_summary(uow, instance_id)
        found = [e for e in uow.instance_search.audit_trail(instance_id, HISTORY_LIMIT, "task.completed")
                 if int(e["id"]) == event_id]
        if not found:
            raise NotFound(f"the instance has no completed task event {event_id}")
        payload = found[0]["data"] if isinstance(found[0]["data"], Mapping) else {}
        data = payload.get("data") if isinstance(payload.get("data"), Mapping) else {}
        audit_read(uow, rt, actor, instance_id, "instance.data_revealed", evento=event_id,
                   campi=sensitive_keys(data))
        uow.commit()
    return dict(data)


def diagram_of(rt: Runtime, actor: Actor, instance_id: str) -> str:
    """The BPMN XML of the version an instance is pinned to."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        summary = find_summary(uow, instance_id)
        row = uow.versions.get(summary.version_id)
    if row is None:
        raise NotFound(f"process version {summary.version_id} does not exist")
    return str(row["files"].get(row["main_file"], ""))

"""Loading an instance for a use case and storing what the engine produced, in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ...domain.durations import parse_duration
from ...domain.errors import ConcurrentChange, Conflict, NotFound
from ...domain.model import ENDED_STATUSES, Actor, InstanceStatus, OutgoingMessage, ReadyTask, Snapshot
from ...engine.runner import WorkflowHandle, correlation_text
from ...persistence.uow import UnitOfWork
from ..access import authorization
from ..administration import incidents
from ..cases import case_records
from ..cases.case_closure import on_case_ended
from ..integrations.message_buffer import keep_or_drop
from .assignment import task_audience
from .runtime import CachedWorkflow, ProcessVersion, Runtime, ServiceCall

AUTO_RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
MAX_MESSAGE_HOPS = 25


@dataclass(frozen=True)
class StepResult:
    """What a started or completed step left: the instance, its status, the tasks the actor can work now."""

    instance_id: str
    status: str
    next_tasks: list[dict[str, Any]]


def step_result(
    instance_id: str, snapshot: Snapshot, actor: Actor, case: Mapping[str, Any] | None, version: ProcessVersion
) -> StepResult:
    """The step's outcome as its actor sees it: only the ready tasks they may work.

    `case` is the header of the case the step was about; a task about another case is judged
    without it (deny by default).
    """
    rows = (
        {
            "id": task.id,
            "instance_id": instance_id,
            "name": task.name,
            "element_id": task.element_id,
            "lane": task.lane,
            "zone": task.zone,
            "case_id": task.case_id or instance_id,
            **task_audience(version, task),
            "participant": task.participant,
        }
        for task in snapshot.ready.values()
    )
    return StepResult(instance_id, snapshot.status.value, [
        row for row in rows
        if authorization.can_work_task(actor, row, case if case and case.get("id") == row["case_id"] else None)
    ])


@dataclass
class Loaded:
    """An instance ready to be worked on inside a unit of work."""

    header: Mapping[str, Any]
    version: ProcessVersion
    handle: WorkflowHandle
    new: bool = False  # not yet in the database: the first save inserts it
    inbox: Mapping[str, Mapping[str, Any]] | None = None  # its inbox rows this process committed, if cached
    trusted: bool = False  # worked from what this process remembered: the writes check what it assumed
    facts: Mapping[str, Any] | None = None  # its case record's facts as this process stored them, if cached
    size: int = 0  # characters of its serialised state as loaded (what it weighs in the workflow cache)

    @property
    def id(self) -> str:
        """The instance id."""
        return str(self.header["id"])

    def unchanged(self) -> CachedWorkflow:
        """The workflow as it was loaded, to be kept when the use case changed nothing."""
        return CachedWorkflow(int(self.header["row_version"]), self.handle, dict(self.header), self.inbox or {},
                              self.facts, self.size)


def load(
    rt: Runtime,
    uow: UnitOfWork,
    instance_id: str,
    lock: bool = False,
    header: Mapping[str, Any] | None = None,
    state: str | None = None,
) -> Loaded:
    """Load an instance's header and state (unless given), compiled version and live workflow."""
    if header is None:
        header = uow.instances.header(instance_id, lock=lock)
    if header is None:
        raise NotFound(f"instance {instance_id} does not exist")
    version = rt.processes.get(uow, header["process_version_id"])
    cached = rt.workflows.take(instance_id, header["row_version"])
    if cached is not None:
        return Loaded(header, version, cached.handle, inbox=cached.inbox, facts=cached.facts, size=cached.size)
    if state is None:
        state = uow.instances.state(instance_id)
    return Loaded(header, version, rt.engine.load(version.compiled, state or ""), size=len(state or ""))


def service_handler(rt: Runtime, uow: UnitOfWork, instance_id: str, now: datetime) -> Callable[..., Any]:
    """The callback the engine uses for service tasks of this instance."""

    def call(operation: str, params: dict[str, Any], data: dict[str, Any]) -> Any:
        connector = rt.connectors.get(operation)
        if connector is None:
            raise LookupError(f"unknown service operator {operation!r}")
        return connector(ServiceCall(rt, uow, instance_id, now, operation, params, data))

    return call


def _instance_values(
    rt: Runtime, snapshot: Snapshot, now: datetime, retry_count: int, facts: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "state": snapshot.state,
        "status": snapshot.status.value,
        "next_due_at": snapshot.next_due_at,
        "updated_at": now,
        "current_step": _current_step(snapshot),
        "error": None,
        "retry_count": 0,
    }
    if facts is not None:
        # The case header (zone, beneficiary, assigned people) is what the process's declaration
        # (<process>.case.toml) says; a process without one has none.
        values.update(case_records.header_columns(facts))
    if snapshot.status in (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED):
        values["ended_at"] = now
        values["next_due_at"] = None
        values["open_case_key"] = None  # the person may have a new case now
    if snapshot.error is not None:
        values["error"] = {**snapshot.error.as_dict(), "at": now.isoformat()}
        values["retry_count"] = retry_count
        values["next_due_at"] = None
        if snapshot.error.retryable and retry_count < len(AUTO_RETRY_DELAYS):
            values["next_due_at"] = now + AUTO_RETRY_DELAYS[retry_count]
    return values


_ABSENT = object()


def _changed(header: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Only the columns whose value changes: an unchanged indexed column costs no index write."""
    return {
        key: value
        for key, value in values.items()
        if key in ("state", "updated_at") or header.get(key, _ABSENT) != value
    }


def _current_step(snapshot: Snapshot) -> str | None:
    if snapshot.error is not None:
        return f"Errore: {snapshot.error.element_name or snapshot.error.element_id or 'processo'}"[:255]
    if snapshot.ready:
        return ", ".join(sorted({t.name for t in snapshot.ready.values()}))[:255]
    if snapshot.waiting:
        return ("In attesa: " + ", ".join(sorted(set(snapshot.waiting))))[:255]
    return None


def _inbox_row(
    rt: Runtime, loaded: Loaded, task: ReadyTask, now: datetime, data: Mapping[str, Any]
) -> dict[str, Any]:
    due_at = None
    if task.due_in:
        try:
            due_at = parse_duration(task.due_in).after(now, rt.settings.timezone)
        except ValueError:
            due_at = None
    return {
        "id": task.id,
        "instance_id": loaded.id,
        "process_id": loaded.header["process_id"],
        "element_id": task.element_id,
        "name": task.name[:255],
        "lane": task.lane,
        "form": task.form,
        "zone": task.zone,
        "case_id": task.case_id or loaded.id,
        "participant": task.participant,
        "created_at": now,
        "due_at": due_at,
        "assignee": None,
        "draft": None,
        **task_audience(loaded.version, task),
        **case_records.task_fields(rt, loaded.version, data),
    }


def save(
    rt: Runtime,
    uow: UnitOfWork,
    loaded: Loaded,
    snapshot: Snapshot,
    now: datetime,
    actor: Actor,
    action: str,
    audit: Mapping[str, Any] | None = None,
    task_id: str | None = None,
    element_id: str | None = None,
    extra: Mapping[str, Any] | None = None,
    hops: int = 0,
    completed: tuple[str, str | None] | None = None,
    keep: bool = True,
) -> dict[str, Any]:
    """Store the snapshot with its projections, audit it and route its messages; returns the stored header.

    `completed` is a completed task's id and the assignee it was worked under: its inbox row
    must still hold that assignee, or the step fails with ConcurrentChange. `keep` False leaves
    the workflow out of memory after the commit (for a caller that changes its rows after saving).
    """
    uow.audit.keys.prepare(loaded.id, new=loaded.new)  # a read: before the step's first write
    retry_count = int(loaded.header["retry_count"] or 0)
    if snapshot.error is not None and extra and "retry_count" in extra:
        retry_count = int(extra["retry_count"])
    facts = case_records.declared_facts(rt, loaded.version, snapshot.data)
    values = _instance_values(rt, snapshot, now, retry_count, facts)
    if extra:
        values.update({k: v for k, v in extra.items() if k != "retry_count"})
    if not loaded.new:
        values = _changed(loaded.header, values)
    row_version = int(loaded.header["row_version"])
    handle = loaded.handle
    new_ready = set(snapshot.ready)
    removed = handle.ready - new_ready
    added = [snapshot.ready[t] for t in snapshot.ready if t not in handle.ready]
    old_subs = {(s.name, s.correlation) for s in handle.subscriptions}
    new_subs = {(s.name, s.correlation) for s in snapshot.subscriptions}
    inbox_rows = [_inbox_row(rt, loaded, t, now, handle.task_data(t.id)) for t in added]
    if snapshot.status in ENDED_STATUSES and loaded.header.get("status") not in ENDED_STATUSES:
        # Its reads go before the step's writes, which then travel with the COMMIT.
        on_case_ended(uow, loaded.id, snapshot.status.value, now, actor, expect_none=loaded.trusted)
    # The instance row first: a step that lost the race stops here (on SQLite) or when the
    # writes are sent (on PostgreSQL), before any of its other rows exist.
    stored = {**loaded.header, **values, "row_version": row_version + 1}
    if loaded.new:
        uow.instances.add(stored)
    elif not uow.instances.update(loaded.id, row_version, values):
        raise ConcurrentChange()
    if completed is not None and completed[0] in removed:
        uow.inbox.remove_as_seen(*completed)
        removed = removed - {completed[0]}
    uow.inbox.remove(removed)
    uow.inbox.add(inbox_rows)
    # The task.completed audit carries the form data as submitted: what the record counts from.
    form = audit.get("data") if action == "task.completed" and audit and element_id else None
    remembered = case_records.on_step(rt, uow, loaded.version, stored, facts, now,
                                      (element_id, form) if isinstance(form, Mapping) and element_id else None,
                                      loaded.facts)
    if old_subs != new_subs:
        uow.instances.replace_subscriptions(loaded.id, old_subs - new_subs, new_subs - old_subs)
    person = stored.get("codice_fiscale")
    if not person and action == "instance.started" and audit and isinstance(audit.get("data"), Mapping):
        # About several people (a meeting's agenda): their data stay in the workflow, not in the log.
        audit = {**audit, "data": _outline(audit["data"])}
    uow.audit.record(now, actor.username, action, loaded.id, task_id, element_id, dict(audit) if audit else None,
                     codice_fiscale=person or "")
    if snapshot.error is not None:
        uow.audit.record(now, actor.username, "instance.error", loaded.id, None,
                         snapshot.error.element_id, snapshot.error.as_dict(), codice_fiscale=person or "")
    incidents.track(uow, loaded.header, stored, snapshot.error, action, actor, now,
                    audit.get("reason") if audit else None)
    handle.ready = frozenset(new_ready)
    handle.subscriptions = snapshot.subscriptions
    # Only tasks about this very case are remembered: a task about another case (a meeting's)
    # is authorised on that case's header, which is not kept here.
    known = {task_id: row for task_id, row in (loaded.inbox or {}).items() if task_id in new_ready}
    known.update((row["id"], row) for row in inbox_rows if row["case_id"] == loaded.id)
    committed = CachedWorkflow(row_version + 1, handle, {k: v for k, v in stored.items() if k != "state"}, known,
                               remembered, len(values.get("state") or "") or loaded.size)
    if keep:
        uow.after_commit(lambda: rt.workflows.put(loaded.id, committed))
    if snapshot.messages:
        route_outgoing(rt, uow, loaded.id, snapshot.messages, now, actor, hops)
    if new_subs - old_subs:
        deliver_buffered(rt, uow, loaded.id, new_subs - old_subs, now, actor, hops)
    stored.pop("state", None)
    return stored


def route_outgoing(
    rt: Runtime,
    uow: UnitOfWork,
    sender_id: str,
    messages: list[OutgoingMessage],
    now: datetime,
    actor: Actor,
    hops: int,
) -> None:
    """Deliver thrown messages to the instance waiting for them, or keep them until one waits."""
    for message in messages:
        correlation = correlation_text(message.correlations)
        targets = uow.instances.subscribers(message.name, correlation)
        if not targets:
            keep_or_drop(uow, message.name, correlation, message.payload, sender_id, now, actor)
            continue
        deliver_to(rt, uow, sorted(targets)[0], message.name, message.payload, now, actor, hops + 1, sender_id)


def deliver_buffered(
    rt: Runtime,
    uow: UnitOfWork,
    instance_id: str,
    subscriptions: set[tuple[str, str]],
    now: datetime,
    actor: Actor,
    hops: int,
) -> None:
    """Hand an instance the messages that arrived before it waited for them."""
    for name, correlation in sorted(subscriptions):
        row = uow.instances.take_buffered(name, correlation)
        if row is not None:
            deliver_to(rt, uow, instance_id, name, row["payload"], now, actor, hops + 1, row["sender_instance_id"])
            return  # the instance's subscriptions changed: the nested save handles the rest


def deliver_to(
    rt: Runtime,
    uow: UnitOfWork,
    instance_id: str,
    name: str,
    payload: Any,
    now: datetime,
    actor: Actor,
    hops: int,
    sender_id: str | None = None,
    audit: Mapping[str, Any] | None = None,
) -> None:
    """Deliver one message to one instance inside the current transaction (`audit`: more to record with it)."""
    if hops > MAX_MESSAGE_HOPS:
        raise Conflict(f"message {name!r} bounced between instances more than {MAX_MESSAGE_HOPS} times")
    loaded = load(rt, uow, instance_id)
    if loaded.header["status"] not in (InstanceStatus.RUNNING, InstanceStatus.WAITING):
        correlation = next((c for n, c in uow.instances.subscriptions_of(instance_id) if n == name), "")
        uow.instances.buffer_message(
            {"name": name, "correlation": correlation, "payload": payload,
             "sender_instance_id": sender_id, "created_at": now}
        )
        rt.workflows.put(instance_id, loaded.unchanged())
        return
    handler = service_handler(rt, uow, instance_id, now)
    snapshot = rt.engine.deliver(loaded.handle, name, payload, now, handler)
    save(rt, uow, loaded, snapshot, now, actor, "message.delivered",
         {**(audit or {}), "message": name, "from": sender_id}, hops=hops)


def _outline(data: Mapping[str, Any]) -> dict[str, Any]:
    """Start data without what it says about people: scalars kept, mappings by their keys, lists by their length."""
    return {k: (sorted(map(str, v)) if isinstance(v, Mapping) else len(v) if isinstance(v, list) else v)
            for k, v in data.items()}

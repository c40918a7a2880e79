"""Use cases on whole instances: start, fire timers, retry, suspend, resume, terminate."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from ...domain.errors import (
    AlreadyEnded,
    CannotSuspend,
    ConcurrentChange,
    Conflict,
    Forbidden,
    InvalidState,
    NotFound,
    NotInError,
    NotSuspended,
    OpenCaseExists,
)
from ...domain.model import ENDED_STATUSES, Actor, InstanceStatus
from ...forms import submission
from ...persistence.errors import DuplicateRow
from ...persistence.uow import UnitOfWork
from ..access import authorization
from ..administration import incidents
from ..administration.incidents import SET_ASIDE
from ..cases import case_records
from . import assignment
from .runtime import ProcessVersion, Runtime
from .stepping import Loaded, StepResult, load, save, service_handler, step_result

T = TypeVar("T")


def latest_version(rt: Runtime, uow: UnitOfWork, process_id: str, remembered: bool = False) -> ProcessVersion:
    """The newest deployed version of a process, compiled.

    With `remembered` the id this process saw last is used without asking, and the unit of
    work's writes check that it is still the newest (ConcurrentChange when not).
    """
    version_id = rt.processes.remembered_latest(process_id) if remembered else None
    if version_id is None:
        version_id = uow.versions.latest_id(process_id)
        if version_id is None:
            raise NotFound(f"process {process_id!r} is not deployed")
        rt.processes.remember_latest(process_id, version_id)
    else:
        uow.versions.expect_latest(process_id, version_id)
    return rt.processes.get(uow, version_id)


@dataclass(frozen=True)
class OneOpenCase:
    """Open at most one case of a process per codice fiscale, unless an administrator says why not."""

    codice_fiscale: str
    duplicate_reason: str | None = None  # set: an administrator opens a second case on purpose

    def key(self, process_id: str) -> str:
        """The value of `instances.open_case_key` that the unique index guards."""
        return f"{process_id}:{self.codice_fiscale}"


def start_instance(
    rt: Runtime,
    process_id: str,
    data: Mapping[str, Any],
    actor: Actor,
    options: Mapping[str, list[str]] | None = None,
    confirmed: Collection[str] = (),
    one_open_case: OneOpenCase | None = None,
) -> StepResult:
    """Start the latest version of a process with validated initial data; answers with the tasks ready for the starter.

    The newest version this process knows is tried first; if another process deployed a
    newer one meanwhile, the start is done again on that. With `one_open_case` the start is
    refused (OpenCaseExists) while the person has an open case of the process, also when two
    starts race: the database's unique index on the open case key lets only one commit.
    """
    try:
        try:
            return _start(rt, process_id, data, actor, options, confirmed, one_open_case, remembered=True)
        except ConcurrentChange:
            rt.processes.forget_latest(process_id)
        return _start(rt, process_id, data, actor, options, confirmed, one_open_case, remembered=False)
    except DuplicateRow:
        if one_open_case is None:
            raise
        with rt.uow(write=False) as uow:
            _refuse_second_case(uow, process_id, one_open_case)
        raise


def _refuse_second_case(uow: UnitOfWork, process_id: str, rule: OneOpenCase) -> None:
    found = uow.instances.open_case(process_id, rule.codice_fiscale, rule.key(process_id))
    if found is not None:
        raise OpenCaseExists(f"{rule.codice_fiscale} already has an open case of {process_id}: {found}", found)


def _start(
    rt: Runtime,
    process_id: str,
    data: Mapping[str, Any],
    actor: Actor,
    options: Mapping[str, list[str]] | None,
    confirmed: Collection[str],
    one_open_case: OneOpenCase | None,
    remembered: bool,
) -> StepResult:
    now = rt.now()
    with rt.uow() as uow:
        result = start_in(rt, uow, process_id, data, actor, now, options, remembered=remembered,
                          confirmed=confirmed, one_open_case=one_open_case)
        uow.commit()
    return result


def start_in(
    rt: Runtime,
    uow: UnitOfWork,
    process_id: str,
    data: Mapping[str, Any],
    actor: Actor,
    now: datetime,
    options: Mapping[str, list[str]] | None = None,
    instance_id: str | None = None,
    remembered: bool = False,
    confirmed: Collection[str] = (),
    one_open_case: OneOpenCase | None = None,
) -> StepResult:
    """Start an instance inside an existing unit of work (also used by the scheduler)."""
    version = latest_version(rt, uow, process_id, remembered)
    starters = assignment.starters(version)
    zone, zoned = case_records.start_zone(rt, version, data)
    if zone is not None or not zoned:  # a zone outside the person's is refused before the form speaks
        authorization.require_start(actor, starters, zone, zoned)
    elif not authorization.can_start(actor, starters):
        raise Forbidden("you may not start this process")
    form_name = version.compiled.start_form
    if form_name and form_name in version.forms:
        data = submission.checked(version.forms[form_name], data, options, confirmed,
                                  "i dati iniziali non sono validi", forms=version.forms)
    authorization.require_start(actor, starters, *case_records.start_zone(rt, version, data))
    audit: dict[str, Any] = {"process": process_id, "version": version.version, "data": dict(data)}
    open_case_key = None
    if one_open_case is not None:
        if one_open_case.duplicate_reason is None:
            _refuse_second_case(uow, process_id, one_open_case)
            open_case_key = one_open_case.key(process_id)
        else:
            authorization.require_admin(actor)
            audit["duplicate"] = {"reason": one_open_case.duplicate_reason, "open_case": uow.instances.open_case(
                process_id, one_open_case.codice_fiscale, one_open_case.key(process_id))}
    instance_id = instance_id or str(uuid.uuid4())
    initial = {**data, "case_id": data.get("case_id", instance_id)}
    handle, snapshot = rt.engine.start(
        version.compiled, initial, now, service_handler(rt, uow, instance_id, now)
    )
    header = {
        **uow.instances.blank_header(),
        "id": instance_id,
        "process_version_id": version.id,
        "process_id": process_id,
        "row_version": 0,
        "retry_count": 0,
        "started_by": actor.username,
        "started_at": now,
    }
    if open_case_key is not None and snapshot.status not in ENDED_STATUSES:
        header["open_case_key"] = open_case_key
    stored = save(rt, uow, Loaded(header, version, handle, new=True), snapshot, now, actor, "instance.started", audit)
    return step_result(instance_id, snapshot, actor, stored, version)


def fire_due(
    rt: Runtime, uow: UnitOfWork, instance_id: str, now: datetime, actor: Actor, row: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> bool:
    """Fire the due timers of one claimed instance (or retry its failed connector); False if nothing was due.

    `row` is the instance's whole row when the claim already read it (saves two reads per timer);
    `extra` are column values written with the step (a scheduler's lease ending).
    """
    if row is None:
        loaded = load(rt, uow, instance_id)
    else:
        header = {key: value for key, value in row.items() if key != "state"}
        loaded = load(rt, uow, instance_id, header=header, state=row["state"])
    due = loaded.header["next_due_at"]
    if due is None or due >= now:
        _keep(rt, loaded)
        return False
    status = loaded.header["status"]
    handler = service_handler(rt, uow, instance_id, now)
    if status == InstanceStatus.ERROR:
        retries = int(loaded.header["retry_count"] or 0) + 1
        snapshot = rt.engine.retry(loaded.handle, now, handler)
        save(rt, uow, loaded, snapshot, now, actor, "instance.auto_retried", {"attempt": retries},
             extra={**(extra or {}), "retry_count": retries})
        return True
    if status not in (InstanceStatus.RUNNING, InstanceStatus.WAITING):
        uow.instances.update(instance_id, int(loaded.header["row_version"]), {"next_due_at": None, **(extra or {})})
        return False
    snapshot = rt.engine.fire_timers(loaded.handle, now, handler)
    save(rt, uow, loaded, snapshot, now, actor, "timer.fired", {"due_at": due.isoformat()}, extra=extra)
    return True


def _keep(rt: Runtime, loaded: Loaded) -> None:
    rt.workflows.put(loaded.id, loaded.unchanged())


def retry(rt: Runtime, instance_id: str, actor: Actor) -> None:
    """Run the failed step of an instance again (after a fix)."""
    authorization.require_admin(actor)
    now = rt.now()
    with rt.uow() as uow:
        header = _header(uow, instance_id)
        error = header["error"] if isinstance(header["error"], Mapping) else {}
        if header["status"] == InstanceStatus.ERROR and isinstance(error.get(SET_ASIDE), Mapping):
            _resume_set_aside(uow, header, error[SET_ASIDE], now, actor)
            uow.commit()
            return
        loaded = load(rt, uow, instance_id, header=header)
        if loaded.header["status"] != InstanceStatus.ERROR:
            _keep(rt, loaded)
            raise NotInError("only an instance in error can be retried", loaded.header["status"])
        snapshot = rt.engine.retry(loaded.handle, now, service_handler(rt, uow, instance_id, now))
        save(rt, uow, loaded, snapshot, now, actor, "instance.retried", extra={"retry_count": 0})
        uow.commit()


def _resume_set_aside(uow: UnitOfWork, header: Mapping[str, Any], aside: Mapping[str, Any], now: datetime,
                      actor: Actor) -> None:
    """Give an instance the scheduler set aside back to the scheduler: its due step is tried again at once."""
    due = datetime.fromisoformat(aside["due_at"]) if aside.get("due_at") else now
    _write(uow, header, {"status": str(aside.get("status") or InstanceStatus.WAITING.value), "error": None,
                         "next_due_at": min(due, now), "claimed_until": None, "due_attempts": 0, "updated_at": now})
    uow.audit.record(now, actor.username, "instance.retried", str(header["id"]), data={"set_aside": True})
    incidents.resolved(uow, str(header["id"]), "retried", actor.username, now)


def suspend(rt: Runtime, instance_id: str, actor: Actor, reason: str | None = None) -> None:
    """Stop an instance from moving: no timers, no messages, no task completion."""
    authorization.require_admin(actor)
    now = rt.now()
    with rt.uow() as uow:
        header = _header(uow, instance_id)
        if header["status"] not in (InstanceStatus.RUNNING, InstanceStatus.WAITING, InstanceStatus.ERROR):
            raise CannotSuspend(f"an instance that is {header['status']} cannot be suspended", header["status"])
        _write(uow, header, {"status": InstanceStatus.SUSPENDED.value, "suspended_status": header["status"],
                             "next_due_at": None, "updated_at": now})
        case_records.on_status(uow, instance_id, InstanceStatus.SUSPENDED.value, now)
        uow.audit.record(now, actor.username, "instance.suspended", instance_id, data={"reason": reason})
        uow.commit()


def resume(rt: Runtime, instance_id: str, actor: Actor) -> None:
    """Let a suspended instance move again; missed timers fire at once."""
    authorization.require_admin(actor)
    now = rt.now()
    with rt.uow() as uow:
        loaded = load(rt, uow, instance_id)
        if loaded.header["status"] != InstanceStatus.SUSPENDED:
            _keep(rt, loaded)
            raise NotSuspended("only a suspended instance can be resumed", loaded.header["status"])
        previous = loaded.header["suspended_status"] or InstanceStatus.WAITING.value
        if previous == InstanceStatus.ERROR:
            snapshot = rt.engine.snapshot(loaded.handle, now)
            error = loaded.header["error"]
            save(rt, uow, loaded, snapshot, now, actor, "instance.resumed",
                 extra={"status": InstanceStatus.ERROR.value, "error": error, "suspended_status": None,
                        "next_due_at": None, "current_step": loaded.header["current_step"]})
        else:
            snapshot = rt.engine.fire_timers(loaded.handle, now, service_handler(rt, uow, instance_id, now))
            save(rt, uow, loaded, snapshot, now, actor, "instance.resumed", extra={"suspended_status": None})
        uow.commit()


def terminate(rt: Runtime, instance_id: str, actor: Actor, reason: str | None = None) -> None:
    """End an instance for good: open tasks disappear from every inbox."""
    authorization.require_admin(actor)
    now = rt.now()
    with rt.uow() as uow:
        loaded = load(rt, uow, instance_id)
        if loaded.header["status"] in (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED):
            _keep(rt, loaded)
            raise AlreadyEnded(f"the instance is already {loaded.header['status']}", loaded.header["status"])
        rt.engine.cancel(loaded.handle)
        snapshot = rt.engine.snapshot(loaded.handle, now)
        snapshot.status = InstanceStatus.TERMINATED
        snapshot.error = None
        save(rt, uow, loaded, snapshot, now, actor, "instance.terminated", {"reason": reason},
             extra={"status": InstanceStatus.TERMINATED.value, "ended_at": now, "next_due_at": None,
                    "suspended_status": None, "current_step": None})
        uow.inbox.remove_instance(instance_id)
        uow.commit()


def _header(uow: UnitOfWork, instance_id: str) -> Any:
    header = uow.instances.header(instance_id)
    if header is None:
        raise NotFound(f"instance {instance_id} does not exist")
    return header


def _write(uow: UnitOfWork, header: Any, values: dict[str, Any]) -> None:
    if not uow.instances.update(header["id"], int(header["row_version"]), values):
        raise ConcurrentChange()


def read_workflow(rt: Runtime, uow: UnitOfWork, instance_id: str, read: Callable[[Loaded], T]) -> T:
    """Run `read` on a loaded instance without changing it; the workflow goes back to the cache."""
    loaded = load(rt, uow, instance_id)
    try:
        return read(loaded)
    finally:
        _keep(rt, loaded)

"""Moving running instances to a newer version of their process, one at a time (batches call this too)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...domain.errors import AlreadyEnded, MigrationRefused, NotFound, WrongTargetVersion
from ...domain.model import ENDED_STATUSES, Actor, InstanceStatus
from ...engine.migration import (
    MigrationIssue,
    MigrationNote,
    MigrationOutcome,
    plan_and_migrate,
)
from ...persistence.uow import UnitOfWork
from ..access import authorization
from ..workflow.runtime import ProcessVersion, Runtime
from ..workflow.stepping import Loaded, save


@dataclass
class MigrationReport:
    """What checking or migrating one instance found."""

    instance_id: str
    process_id: str
    from_version: int
    to_version: int
    migrated: bool
    issues: list[MigrationIssue] = field(default_factory=list)
    notes: list[MigrationNote] = field(default_factory=list)


def _target(rt: Runtime, uow: UnitOfWork, header: Mapping[str, Any], target_version_id: int) -> ProcessVersion:
    row = uow.versions.get(target_version_id)
    if row is None:
        raise NotFound(f"process version {target_version_id} does not exist")
    if row["process_id"] != header["process_id"]:
        raise WrongTargetVersion(f"version {target_version_id} belongs to {row['process_id']}, not {header['process_id']}")
    return rt.processes.for_row(row)


def _prepare(rt: Runtime, uow: UnitOfWork, instance_id: str, target_version_id: int, lock: bool
             ) -> tuple[Mapping[str, Any], ProcessVersion, ProcessVersion, MigrationOutcome]:
    header = uow.instances.header(instance_id, lock=lock)
    if header is None:
        raise NotFound(f"instance {instance_id} does not exist")
    if header["status"] in ENDED_STATUSES:
        raise AlreadyEnded(f"the instance is {header['status']}: there is nothing left to migrate", header["status"])
    old = rt.processes.get(uow, header["process_version_id"])
    new = _target(rt, uow, header, target_version_id)
    if new.version <= old.version:
        raise WrongTargetVersion(f"the instance runs on version {old.version}: it can only move to a newer one")
    state = uow.instances.state(instance_id) or ""
    return header, old, new, plan_and_migrate(rt.engine, old.compiled, state, new.compiled)


def check_migration(rt: Runtime, actor: Actor, instance_id: str, target_version_id: int) -> MigrationReport:
    """Would this instance move to the target version? Changes nothing."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        header, old, new, outcome = _prepare(rt, uow, instance_id, target_version_id, lock=False)
    return MigrationReport(instance_id, header["process_id"], old.version, new.version, False,
                           outcome.issues, outcome.notes)


def migrate_instance(
    rt: Runtime, actor: Actor, instance_id: str, target_version_id: int, reason: str | None = None
) -> MigrationReport:
    """Move an instance to a newer version, keeping timer due dates and open-task drafts; MigrationRefused with the reasons."""
    authorization.require_admin(actor)
    now = rt.now()
    with rt.uow() as uow:
        header, old, new, outcome = _prepare(rt, uow, instance_id, target_version_id, lock=True)
        if not outcome.ok or outcome.handle is None:
            raise MigrationRefused(
                f"instance {instance_id} cannot move to version {new.version}: "
                + "; ".join(str(i) for i in outcome.issues), list(outcome.issues))
        _store(rt, uow, header, new, outcome, now, actor, reason, old.version)
        uow.commit()
    return MigrationReport(instance_id, header["process_id"], old.version, new.version, True, [], outcome.notes)


def _store(rt: Runtime, uow: UnitOfWork, header: Mapping[str, Any], new: ProcessVersion, outcome: MigrationOutcome,
           now: datetime, actor: Actor, reason: str | None, from_version: int) -> None:
    """Save the migrated workflow through the usual step, re-creating the open tasks with what they carried."""
    instance_id = str(header["id"])
    handle = outcome.handle
    assert handle is not None
    previous = _open_rows(uow, instance_id)
    uow.inbox.remove_instance(instance_id)
    handle.ready = frozenset()  # every open task is written again, with the new version's name and form
    snapshot = rt.engine.snapshot(handle, now)
    audit = {"from_version": from_version, "to_version": new.version, "reason": reason,
             "notes": [f"{n.kind}:{n.element_id}" for n in outcome.notes]}
    save(rt, uow, Loaded(header, new, handle), snapshot, now, actor, "instance.migrated", audit,
         extra={"process_version_id": new.id, **_kept_status(header)}, keep=False)
    _carry_over(uow, instance_id, previous)  # changes the rows just saved: the workflow is not kept


def _kept_status(header: Mapping[str, Any]) -> dict[str, Any]:
    """A suspended or failed instance stays as it was: migration is not a resume or a retry."""
    status = header["status"]
    if status == InstanceStatus.SUSPENDED:
        return {"status": status, "suspended_status": header["suspended_status"], "next_due_at": None,
                "current_step": header["current_step"], "error": header["error"]}
    if status == InstanceStatus.ERROR:
        return {"status": status, "error": header["error"], "next_due_at": header["next_due_at"],
                "current_step": header["current_step"]}
    return {}


def _open_rows(uow: UnitOfWork, instance_id: str) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in uow.inbox.for_instance(instance_id):
        rows[row["element_id"]].append(dict(row))
    return rows


def _carry_over(uow: UnitOfWork, instance_id: str, previous: Mapping[str, list[dict[str, Any]]]) -> None:
    """Match re-created open tasks to the old rows by element id (task ids may change) and keep drafts."""
    remaining = {element: list(rows) for element, rows in previous.items()}
    for row in uow.inbox.for_instance(instance_id):
        olds = remaining.get(row["element_id"])
        if olds:
            old = olds.pop(0)
            uow.repairs.carry_over(row["id"], {k: old[k] for k in ("draft", "assignee", "created_at", "due_at")})

"""Repairs an administrator makes on one instance: the life-cycle operations by name, and editing its data."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ...domain.errors import (
    Conflict,
    Forbidden,
    GolError,
    InputRefused,
    InvalidJson,
    InvalidState,
    MigrationRefused,
    NotFound,
    NotSuspended,
    ValidationFailed,
)
from ...domain.model import Actor, InstanceStatus
from ..access import authorization
from . import data_edits, migration
from ..workflow import instances as instance_service

MAX_EDIT_BYTES = 256 * 1024

Operation = Callable[[Any, Actor, str, Mapping[str, Any]], None]


def _suspend(rt: Any, actor: Actor, instance_id: str, params: Mapping[str, Any]) -> None:
    instance_service.suspend(rt, instance_id, actor, params.get("reason"))


def _resume(rt: Any, actor: Actor, instance_id: str, params: Mapping[str, Any]) -> None:
    instance_service.resume(rt, instance_id, actor)


def _terminate(rt: Any, actor: Actor, instance_id: str, params: Mapping[str, Any]) -> None:
    instance_service.terminate(rt, instance_id, actor, params.get("reason"))


def _retry(rt: Any, actor: Actor, instance_id: str, params: Mapping[str, Any]) -> None:
    instance_service.retry(rt, instance_id, actor)


def _migrate(rt: Any, actor: Actor, instance_id: str, params: Mapping[str, Any]) -> None:
    migration.migrate_instance(rt, actor, instance_id, int(params["target_version_id"]), params.get("reason"))


OPERATIONS: dict[str, Operation] = {
    "suspend": _suspend,
    "resume": _resume,
    "terminate": _terminate,
    "retry": _retry,
    "migrate": _migrate,
}
NEEDS_REASON = frozenset({"suspend", "terminate", "migrate"})


@dataclass(frozen=True)
class Outcome:
    """How one operation on one instance went, in words for the API and a code for the web."""

    ok: bool
    code: str  # ok | invalid_state | refused | not_found | conflict | forbidden | error
    message: str
    details: list[dict[str, Any]] | None = None
    reason: str | None = None  # the failure's own code (`GolError.code`), for the pages' words


def outcome_of(exc: Exception) -> Outcome:
    """Classify a failure (expected service errors by kind; anything else as an unexpected error)."""
    if isinstance(exc, MigrationRefused):
        details = [{"kind": i.kind, "element_id": i.element_id, "element_name": i.element_name,  # type: ignore[attr-defined]
                    "state": i.state, "attributes": list(i.attributes), "text": str(i)}  # type: ignore[attr-defined]
                   for i in exc.issues]
        return Outcome(False, "refused", exc.message, details)
    kinds = ((InvalidState, "invalid_state"), (NotFound, "not_found"), (Conflict, "conflict"),
             (Forbidden, "forbidden"), (ValidationFailed, "invalid"))
    for kind, code in kinds:
        if isinstance(exc, kind):
            return Outcome(False, code, exc.message, reason=exc.code)  # type: ignore[attr-defined]
    if isinstance(exc, GolError):
        return Outcome(False, "error", exc.message, reason=exc.code)
    return Outcome(False, "error", f"{exc.__class__.__name__}: {exc}")


def run_operation(rt: Any, actor: Actor, operation: str, instance_id: str, params: Mapping[str, Any]) -> Outcome:
    """Run a named operation on one instance and say how it went (never raises for an expected failure)."""
    action = OPERATIONS.get(operation)
    if action is None:
        raise ValidationFailed("unknown operation", {"operation": [f"unknown operation {operation!r}"]})
    try:
        action(rt, actor, instance_id, params)
    except GolError as exc:
        return outcome_of(exc)
    if operation == "retry":
        return _after_retry(rt, instance_id)
    return Outcome(True, "ok", "done")


def _after_retry(rt: Any, instance_id: str) -> Outcome:
    """A retry that ran into the same (or another) error did not repair the instance: say so."""
    with rt.uow(write=False) as uow:
        header = uow.instances.header(instance_id)
    error = header["error"] if header is not None and isinstance(header["error"], Mapping) else None
    if header is not None and header["status"] == InstanceStatus.ERROR and error:
        return Outcome(False, "failed_again", f"the step failed again: {error.get('message')}")
    return Outcome(True, "ok", "done")


def parse_data(text: str) -> dict[str, Any]:
    """The edited data from JSON text: an object of top-level fields; ValidationFailed otherwise."""
    if len(text.encode("utf-8")) > MAX_EDIT_BYTES:
        raise InputRefused("too-large", "data too large", {"dati": ["too large"]})
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidJson(exc.lineno, exc.colno, exc.msg) from None
    except ValueError:  # a number of more digits than Python converts
        raise InvalidJson(1, 1, "a number is too long") from None
    if not isinstance(value, dict):
        raise InputRefused("not-an-object", "the data must be a JSON object", {"dati": ["not an object"]})
    bad = [k for k in value if not isinstance(k, str) or not k.isidentifier()]
    if bad:
        raise InputRefused("invalid-names", "invalid field names",
                           {"dati": [f"invalid field names: {', '.join(map(str, bad))}"]})
    return value


def edit_data(rt: Any, actor: Actor, instance_id: str, data: Mapping[str, Any], reason: str) -> list[str]:
    """Replace the top-level data of a suspended instance (the JSON editor), through the checked edit
    (`data_edits`): every changed field must fit the process; audited with before and after."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        header = uow.instances.header(instance_id)
    if header is None:
        raise NotFound(f"instance {instance_id} does not exist")
    if header["status"] != InstanceStatus.SUSPENDED:
        raise NotSuspended("only a suspended instance's data can be edited as a whole", header["status"])
    plan = data_edits.edit(rt, actor, instance_id, data, reason, whole=True)
    return sorted(c["field"] for c in plan.changes)

"""Opening a new case from the web: which processes a person may start, with their start form."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ...domain.errors import Forbidden, NotFound, OpenCaseExists, ValidationFailed
from ...domain.model import Actor
from ..access import authorization
from ..workflow.form_options import OptionContext, Options, allowed_values, options_for
from ..workflow.instances import OneOpenCase, start_instance
from ..workflow import assignment
from ..workflow.runtime import ProcessVersion, Runtime
from . import case_records


@dataclass
class Startable:
    """A process this person may start, with its start form and choices."""

    process_id: str
    name: str
    form: dict[str, Any] | None
    options: dict[str, Options]
    version: ProcessVersion


def _startable(rt: Runtime, actor: Actor, only: str | None = None) -> tuple[list[Startable], bool]:
    """The processes this person may start (only `only`, when given), and whether `only` is deployed."""
    found, deployed = [], False
    with rt.uow(write=False) as uow:
        for row in uow.versions.latest_headers():
            if only is not None and row["process_id"] != only:
                continue
            deployed = True
            version = rt.processes.get(uow, int(row["id"]))
            if not authorization.can_start(actor, assignment.starters(version)):
                continue
            form = version.forms.get(version.compiled.start_form or "")
            options = options_for(rt, uow, form, OptionContext(actor, None, None, rt.now()))
            found.append(Startable(row["process_id"], row["name"] or version.compiled.name, form, options, version))
    return sorted(found, key=lambda s: s.name.lower()), deployed


def startable(rt: Runtime, actor: Actor) -> list[Startable]:
    """The deployed processes this person may start: those declaring them starters; every one for administrators."""
    return _startable(rt, actor)[0]


def may_start_any(rt: Runtime, actor: Actor) -> bool:
    """Whether this person may start some deployed process (the menu's "Nuovo caso")."""
    with rt.uow(write=False) as uow:
        return any(authorization.can_start(actor, assignment.starters(rt.processes.get(uow, int(row["id"]))))
                   for row in rt.processes.latest_headers(uow))


def find_startable(rt: Runtime, actor: Actor, process_id: str) -> Startable:
    """One startable process; NotFound when it is not deployed, Forbidden when the person may not start it."""
    found, deployed = _startable(rt, actor, process_id)
    if found:
        return found[0]
    if deployed:
        raise Forbidden("you may not start this process")
    raise NotFound(f"process {process_id!r} is not deployed")


def open_case(
    rt: Runtime, process_id: str, data: dict[str, Any], actor: Actor, confirmed: Collection[str] = (),
    duplicate_reason: str | None = None,
) -> str:
    """Start a case with the validated start form; returns the case id.

    `confirmed` names the form's warnings the person accepted. OpenCaseExists while the person
    (by codice fiscale) has an open case of the process; an administrator may open a second one
    anyway by giving `duplicate_reason` (audited).
    """
    item = find_startable(rt, actor, process_id)
    if duplicate_reason is not None:
        authorization.require_admin(actor)
        duplicate_reason = duplicate_reason.strip()
        if not duplicate_reason:
            raise ValidationFailed("reason missing", {"duplicate_reason": ["Indicare il motivo del secondo caso."]})
    rule = None
    code = codice_fiscale_of(rt, item.version, data)
    if code is not None:
        rule = OneOpenCase(code, duplicate_reason)
    try:
        return start_instance(rt, process_id, data, actor, options=allowed_values(item.options),
                              confirmed=confirmed, one_open_case=rule).instance_id
    except OpenCaseExists as exc:
        if exc.case_id is None or _may_see(rt, actor, exc.case_id):
            raise
        raise exc.hidden() from None  # a case of another zone or service is not revealed, not even its existence's id


def _may_see(rt: Runtime, actor: Actor, case_id: str) -> bool:
    with rt.uow(write=False) as uow:
        case = uow.instances.header(case_id)
    return case is not None and authorization.can_see_case(actor, case)


def zone_field(rt: Runtime, item: Startable) -> str:
    """The start form field that holds the zone, as the process declares it ("_form" when it declares none)."""
    declared = case_records.declaration(rt, item.version)
    paths = declared.paths_of("zone") if declared is not None else ()
    return paths[0].split(".")[0] if paths else "_form"


def _latest(rt: Runtime, process_id: str) -> ProcessVersion | None:
    with rt.uow(write=False) as uow:
        row = uow.versions.latest(process_id)
        return rt.processes.get(uow, int(row["id"])) if row is not None else None


def zone_of(rt: Runtime, process_id: str, data: Mapping[str, Any]) -> str | None:
    """The zone start data give, where the process's latest version declares it."""
    version = _latest(rt, process_id)
    return case_records.start_zone(rt, version, data)[0] if version is not None else None


def with_zone(rt: Runtime, process_id: str, data: Mapping[str, Any], zone: str) -> dict[str, Any]:
    """Start data with the zone put where the process declares it (unless already given)."""
    version = _latest(rt, process_id)
    declared = case_records.declaration(rt, version) if version is not None else None
    paths = declared.paths_of("zone") if declared is not None else ()
    result = dict(data)
    if paths:
        *parents, last = paths[0].split(".")
        target = result
        for part in parents:
            target = target.setdefault(part, {})
        target.setdefault(last, zone)
    return result


def codice_fiscale_of(rt: Runtime, version: ProcessVersion, data: Mapping[str, Any]) -> str | None:
    """The beneficiary's codice fiscale in a start form's data, where the process declares it."""
    code = case_records.task_fields(rt, version, data).get("codice_fiscale")
    return str(code) if code else None

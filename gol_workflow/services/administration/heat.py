"""The heat of a process version: how many cases wait at each element now, and how long its user tasks took
over a period (median and 90th percentile), for the diagram and its table."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ...domain.errors import InputRefused, NotFound
from ...domain.model import Actor
from ...engine.inspection import names_in
from ...persistence.uow import UnitOfWork
from ..access import authorization
from ..workflow.runtime import Runtime

DEFAULT_DAYS = 30
MAX_DAYS = 366 * 2
CASES_LISTED = 100
# Completions read per element for its median and p90: beyond this, an evenly spread one in k (by id), whose
# quantiles are within about two or three percentile points of the whole's; the count is then the sample's times k.
SAMPLE = 500
WAITING_PREFIX = "In attesa: "  # how a step without tasks names what it waits for (services/workflow/stepping)
ERROR_PREFIX = "Errore: "


@dataclass
class ElementHeat:
    """One element: cases there now (by kind of wait) and the time spent in it over the period."""

    element_id: str
    name: str
    waiting: int = 0  # cases at it now: open tasks, timers or messages, errors
    tasks: int = 0
    events: int = 0
    errors: int = 0
    oldest: datetime | None = None  # the longest-waiting open task's creation
    completed: int = 0  # visits that ended in the period
    estimated: bool = False  # completed, p50 and p90 come from an evenly spread sample (more than SAMPLE)
    p50_seconds: float | None = None
    p90_seconds: float | None = None


@dataclass
class Heat:
    """The heat of one version over a period."""

    process_id: str
    version: int
    version_id: int
    since: datetime
    until: datetime
    elements: list[ElementHeat] = field(default_factory=list)  # those with a case now or a visit in the period
    unplaced: int = 0  # waiting cases whose step names no element of the diagram


@dataclass
class CaseAt:
    """A case waiting at an element."""

    instance_id: str
    beneficiary_name: str | None
    zone: str | None
    status: str
    since: datetime | None
    assignee: str | None


def _period(rt: Runtime, since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    until = until or rt.now()
    since = since or until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise InputRefused("empty-period", "the period ends before it starts", {"from": ["must be before `to`"]})
    if until - since > timedelta(days=MAX_DAYS):
        raise InputRefused("period-too-long", "the period is too long", {"from": [f"at most {MAX_DAYS} days"]})
    return since, until


def _version(rt: Runtime, uow: UnitOfWork, process_id: str, version: int) -> tuple[int, dict[str, str]]:
    row = uow.versions.find(process_id, version)
    if row is None:
        raise NotFound(f"process {process_id!r} has no version {version}")
    compiled = rt.processes.get(uow, int(row["id"])).compiled
    return int(row["id"]), names_in(compiled)


def _alone(rt: Runtime, uow: UnitOfWork, version_id: int, process_id: str, done: set[str]) -> tuple[bool, bool]:
    """Whether no other version of the process has an open instance (its tasks are then this version's), and
    whether no other version or process with instances has an element of the ids completed (their
    completions are then this version's)."""
    alone_open, alone = True, True
    for other in uow.heat.other_versions(version_id):
        same = other["process_id"] == process_id
        if same and alone_open and uow.heat.has_instances(int(other["id"]), active_only=True):
            alone_open = False
        if alone and uow.heat.has_instances(int(other["id"])):
            alone = not same and not done & names_in(rt.processes.get(uow, int(other["id"])).compiled).keys()
    return alone_open, alone


def _steps_named(step: str | None, by_name: dict[str, str]) -> tuple[str, list[str]]:
    """What a current step text says the instance waits at: (kind, element ids)."""
    if not step:
        return "events", []
    if step.startswith(ERROR_PREFIX):
        name = step[len(ERROR_PREFIX):]
        return "errors", [by_name[name]] if name in by_name else []
    text = step[len(WAITING_PREFIX):] if step.startswith(WAITING_PREFIX) else step
    return "events", [by_name[n] for n in text.split(", ") if n in by_name]


def heat_of(rt: Runtime, actor: Actor, process_id: str, version: int, since: datetime | None = None,
            until: datetime | None = None) -> Heat:
    """Cases at each element now and median and p90 time spent in each user task over [since, until]."""
    authorization.require_admin(actor)
    since, until = _period(rt, since, until)
    with rt.uow(write=False) as uow:
        version_id, names = _version(rt, uow, process_id, version)
        every = {element: -(-count // SAMPLE) for element, count in uow.heat.completions(since, until).items()
                 if element in names}
        alone_open, alone = _alone(rt, uow, version_id, process_id, set(every))
        open_tasks = uow.heat.open_tasks(version_id, process_id if alone_open else None)
        steps = uow.heat.waiting_steps(version_id)
        spent = uow.heat.durations(version_id, since, until, every, check_version=not alone)
    by_name = {name: element for element, name in sorted(names.items(), reverse=True)}
    heat = Heat(process_id, version, version_id, since, until)
    found: dict[str, ElementHeat] = {}

    def at(element: str) -> ElementHeat:
        if element not in found:
            found[element] = ElementHeat(element, names.get(element, element))
        return found[element]

    for row in open_tasks:
        item = at(row["element_id"])
        item.tasks += int(row["count"])
        item.oldest = row["oldest"]
    for row in steps:
        step = row["current_step"] or ""
        if row["status"] == "suspended" and not step.startswith((WAITING_PREFIX, ERROR_PREFIX)):
            continue  # suspended at a task: counted with the open tasks
        kind, elements = _steps_named(row["current_step"], by_name)
        if row["status"] == "error":
            kind = "errors"
        if not elements:
            heat.unplaced += int(row["count"])
        for element in elements:
            item = at(element)
            setattr(item, kind, getattr(item, kind) + int(row["count"]))
    for row in spent:
        item = at(row["element_id"])
        step = every.get(row["element_id"], 1)
        item.completed = int(row["count"]) * step
        item.estimated = step > 1
        item.p50_seconds = float(row["p50"]) if row["p50"] is not None else None
        item.p90_seconds = float(row["p90"]) if row["p90"] is not None else None
    for item in found.values():
        item.waiting = item.tasks + item.events + item.errors
    heat.elements = sorted(found.values(), key=lambda e: (-e.waiting, -e.completed, e.name))
    return heat


def cases_at(rt: Runtime, actor: Actor, process_id: str, version: int, element_id: str) -> tuple[str, list[CaseAt]]:
    """The element's name and the cases waiting at it now, the longest waiting first (at most CASES_LISTED)."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        version_id, names = _version(rt, uow, process_id, version)
        if element_id not in names:
            raise NotFound(f"element {element_id!r} is not in version {version}")
        name = names[element_id]
        rows = uow.heat.cases_at(version_id, element_id, WAITING_PREFIX, name, f"{ERROR_PREFIX}{name}"[:255],
                                 CASES_LISTED)
    return name, [CaseAt(r["id"], r["beneficiary_name"], r["zone"], r["status"], r["since"], r["assignee"])
                  for r in rows]

"""What the task page needs: the task, its case, its form with choices and values, the timeline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2.sandbox import SandboxedEnvironment

from ..domain.errors import NotFound
from ..domain.model import Actor, InstanceStatus
from ..persistence.uow import UnitOfWork
from . import authorization
from .cases import audit_read, history
from .form_options import OptionContext, Options, options_for
from .instances import read_workflow
from .runtime import Runtime
from .tasks import already_completed, form_of

TIMELINE_LIMIT = 30


@dataclass
class TaskView:
    """A ready task with its case, form, choices and current values."""

    task: dict[str, Any]
    case: dict[str, Any]
    form: dict[str, Any] | None
    options: dict[str, Options]
    values: dict[str, Any]
    instructions: str | None
    timeline: list[dict[str, Any]] = field(default_factory=list)


def _task_and_case(uow: UnitOfWork, task_id: str, actor: Actor) -> tuple[dict[str, Any], dict[str, Any]]:
    row = uow.inbox.get(task_id)
    if row is None:
        done = already_completed(uow, task_id)
        if done is not None:
            raise done
        raise NotFound("task not found")
    task = dict(row)
    instance = uow.instances.header(task["instance_id"])
    case = uow.instances.header(task["case_id"]) if task["case_id"] else None
    case = case or instance
    if case is None or not authorization.can_work_task(actor, task, case):
        raise NotFound("task not found")  # existence is not revealed to those who may not work it
    return task, dict(case)


def open_task(rt: Runtime, task_id: str, actor: Actor, audited: bool = True) -> TaskView:
    """The task page's content; the read of the case is audited."""
    with rt.uow() as uow:
        task, case = _task_and_case(uow, task_id, actor)
        form = form_of(rt, uow, task)
        ctx = OptionContext(actor, task["zone"] or case.get("zone"), case, rt.now())
        options = options_for(rt, uow, form, ctx)
        data, raw = read_workflow(
            rt, uow, task["instance_id"],
            lambda loaded: (loaded.handle.task_data(task_id), loaded.handle.task_instructions(task_id)),
        )
        values = dict(task["draft"]) if isinstance(task["draft"], Mapping) else _prefill(form, data)
        view = TaskView(task, case, form, options, values, render_instructions(raw, data),
                        history(uow, case["id"])[-TIMELINE_LIMIT:])
        if audited:
            audit_read(uow, rt, actor, case["id"], "case.viewed", attivita=task["name"])
            uow.commit()
    return view


def record_read(rt: Runtime, actor: Actor, view: TaskView) -> None:
    """Audit a task page shown again (after an error, a conflict, or a row added) as a read of its case."""
    with rt.uow() as uow:
        audit_read(uow, rt, actor, view.case["id"], "case.viewed", attivita=view.task["name"])
        uow.commit()


def _prefill(form: Mapping[str, Any] | None, data: Mapping[str, Any]) -> dict[str, Any]:
    """Values the case already holds for this form's fields (e.g. when a step is repeated)."""
    if not form:
        return {}
    return {key: data[key] for key in (form.get("properties") or {}) if key in data}


def render_instructions(template: str | None, data: Mapping[str, Any]) -> str | None:
    """Task instructions (Jinja text written by analysts) rendered in a sandbox, escaped."""
    if not template:
        return None
    env = SandboxedEnvironment(autoescape=True)
    try:
        return str(env.from_string(template).render(**data))
    except Exception:  # noqa: BLE001 - a broken template must not hide the task
        return template


@dataclass
class NextSteps:
    """What the page says after a completion."""

    case: dict[str, Any] | None
    mine: list[dict[str, Any]]
    others: list[dict[str, Any]]
    next_in_inbox: dict[str, Any] | None
    ended: bool


def after_completion(rt: Runtime, case_id: str, actor: Actor, next_in_inbox: dict[str, Any] | None) -> NextSteps:
    """The case's state after a completion: my next tasks on it, and who else has work on it."""
    with rt.uow(write=False) as uow:
        header = uow.instances.header(case_id)
        tasks = [dict(t) for t in uow.inbox_search.for_case(case_id)]
    if header is None:
        return NextSteps(None, [], [], next_in_inbox, False)
    case = dict(header)
    mine = [t for t in tasks if authorization.can_work_task(actor, t, case)]
    others = [{"name": t["name"], "lane": t["lane"]} for t in tasks if t not in mine]
    visible = case if authorization.can_see_case(actor, case) or mine else None
    ended = case["status"] in (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED)
    return NextSteps(visible, mine, others, next_in_inbox, ended)

"""What the task page needs: the task, its case, its form with choices and values, the timeline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jinja2.sandbox import SandboxedEnvironment

from ...domain.errors import NotFound
from ...domain.model import Actor, InstanceStatus
from ...forms import initial_values
from ...persistence.completions import last_completion
from ...persistence.uow import UnitOfWork
from ..access import authorization
from ..cases.case_file import audit_read, history
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
    copy_label: str | None = None  # the form offers to copy its last completion in this case
    previous: dict[str, Any] | None = None  # that completion's answers, when there is one
    previous_at: datetime | None = None
    copied: bool = False  # `values` are the previous answers, copied on request
    redo: bool = False  # an administrator sent the case back to this task: `previous` are its earlier answers


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


def open_task(rt: Runtime, task_id: str, actor: Actor, audited: bool = True, copy_previous: bool = False) -> TaskView:
    """The task page's content; the read of the case is audited.

    The form starts from the task's own draft, else only from what it declares as coming from
    the case (forms/initial_values.py); `copy_previous` fills it with the last completion of the
    same task in this case instead, when the form offers that.
    """
    with rt.uow() as uow:
        task, case = _task_and_case(uow, task_id, actor)
        form = form_of(rt, uow, task)
        ctx = OptionContext(actor, task["zone"] or case.get("zone"), case, rt.now())
        options = options_for(rt, uow, form, ctx)
        data, raw = read_workflow(
            rt, uow, task["instance_id"],
            lambda loaded: (loaded.handle.task_data(task_id), loaded.handle.task_instructions(task_id)),
        )
        values = dict(task["draft"]) if isinstance(task["draft"], Mapping) else initial_values.prefilled(form, data)
        view = TaskView(task, case, form, options, values, render_instructions(raw, data),
                        history(uow, case["id"])[-TIMELINE_LIMIT:], initial_values.copy_label(form))
        # The same task completed before: an administrator moved the case back to it. Its earlier
        # answers are shown beside the form; the form starts from them only through a draft.
        view.redo = uow.audit.task_completed(task_id)
        if view.copy_label or view.redo:
            last = last_completion(uow.conn, task["instance_id"], task["element_id"])
            if last is not None:
                view.previous_at, previous = last
                view.previous = initial_values.copied(form, previous)
            if copy_previous and view.previous is not None:
                view.values, view.copied = dict(view.previous), True
        if audited:
            audit_read(uow, rt, actor, case["id"], "case.viewed", attivita=task["name"])
            uow.commit()
    return view


# Instructions are plain text: the web page escapes them once, as any text; API clients get
# the very same string (escaping here too would show `&#39;` on the page and in the API).
_INSTRUCTIONS = SandboxedEnvironment(autoescape=False)


def record_read(rt: Runtime, actor: Actor, view: TaskView) -> None:
    """Audit a task page shown again (after an error, a conflict, or a row added) as a read of its case."""
    with rt.uow() as uow:
        audit_read(uow, rt, actor, view.case["id"], "case.viewed", attivita=view.task["name"])
        uow.commit()


def render_instructions(template: str | None, data: Mapping[str, Any]) -> str | None:
    """Task instructions (Jinja text written by analysts) rendered in a sandbox as plain text, for the web and the API."""
    if not template:
        return None
    try:
        return str(_INSTRUCTIONS.from_string(template).render(**data))
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

"""Use cases on user tasks: complete with validated data, claim, release, keep a draft."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from ...domain.errors import (
    CaseNotActive,
    ConcurrentChange,
    Forbidden,
    GolError,
    InvalidState,
    NotFound,
    TaskAlreadyCompleted,
    TaskHeldByOther,
    TaskNoLongerOpen,
    ValidationFailed,
)
from ...domain.model import Actor, InstanceStatus
from ...forms import submission
from ...forms.validation import validate
from ...persistence.uow import UnitOfWork
from ..access import authorization
from .completion_records import run_completion_records
from .form_checks import run_form_checks
from .form_options import OptionContext, allowed_values, options_for
from .runtime import Runtime
from .stepping import StepResult, load, save, service_handler, step_result

CHANGED_MEANWHILE_RETRIES = 2  # completions redone from the database before the conflict is the person's


def already_completed(uow: UnitOfWork, task_id: str) -> TaskAlreadyCompleted | None:
    """The error for a task that was completed already (with who and when), or None when it was not."""
    done = uow.audit.completion(task_id)
    return TaskAlreadyCompleted(done["actor"], done["at"]) if done is not None else None


def _task_and_case(
    uow: UnitOfWork, task_id: str
) -> tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]]:
    """The inbox row, its instance's header and the header of the case it is about."""
    found = uow.inbox.get_with_instance(task_id)
    if found is None:
        raise _missing(uow, task_id)
    task, instance = found
    return task, instance, _case_header(uow, task, instance)


def _missing(uow: UnitOfWork, task_id: str) -> GolError:
    """The error for a task not in the inbox: completed already (by whom, when), or not found."""
    return already_completed(uow, task_id) or NotFound("task not found")  # the words of a task one may not see


def _case_header(uow: UnitOfWork, task: Mapping[str, Any], instance: Mapping[str, Any]) -> Mapping[str, Any]:
    """The header of the case a task is about: its instance's, or that of the case it names."""
    if task["case_id"] and task["case_id"] != task["instance_id"]:
        return uow.instances.header(task["case_id"]) or instance
    return instance


def form_of(
    rt: Runtime, uow: UnitOfWork, task: Mapping[str, Any], instance: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """The JSON Schema form of a task, from the version its instance is pinned to."""
    if not task.get("form"):
        return None
    header = instance or uow.instances.header(task["instance_id"])
    if header is None:
        return None
    version = rt.processes.get(uow, header["process_version_id"])
    return version.forms.get(task["form"])


def forms_of(rt: Runtime, uow: UnitOfWork, task: Mapping[str, Any],
             instance: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """Every form of the version a task's instance is pinned to, by file name (what `$ref` may reach)."""
    header = instance or uow.instances.header(task["instance_id"])
    return rt.processes.get(uow, header["process_version_id"]).forms if header else {}


def complete_task(
    rt: Runtime,
    task_id: str,
    data: Mapping[str, Any],
    actor: Actor,
    options: Mapping[str, list[str]] | None = None,
    confirmed: Collection[str] = (),
) -> StepResult:
    """Validate the data against the task's form, complete the task and run on; one transaction.

    `options` are the values accepted for `x-options` fields; without them they are computed
    for this person, as the task page offers them. `confirmed` names the form's warnings the
    person accepted (see forms/cross_rules.py); values of fields that do not apply are cleared.

    A task this process put in the inbox is worked from what it committed, without reading
    it back; the step's writes then check that the instance and the task's assignee are still
    as committed (and, if the case ends, that it holds no messages, bookings or agenda
    places). If anything disagrees the step is done again from the database, which decides
    (and gives the error, if there is one). A step that finds its instance changed meanwhile by
    another task's completion is done again too (at most CHANGED_MEANWHILE_RETRIES times): parallel
    tasks of one instance, such as the participants' confirmations of an equipe decision, do not
    send each other back with a conflict.
    """
    known = rt.workflows.known_task(task_id)
    if known is not None:
        try:
            return _complete(rt, task_id, data, actor, options, known, confirmed)
        except GolError:
            pass
    for _ in range(CHANGED_MEANWHILE_RETRIES):
        try:
            return _complete(rt, task_id, data, actor, options, None, confirmed)
        except ConcurrentChange:
            # Another task of the same instance was completed meanwhile (e.g. two participants
            # confirming one equipe decision at once): this task is worked again on what committed.
            continue
    return _complete(rt, task_id, data, actor, options, None, confirmed)


def _complete(
    rt: Runtime,
    task_id: str,
    data: Mapping[str, Any],
    actor: Actor,
    options: Mapping[str, list[str]] | None,
    known: tuple[Mapping[str, Any], Mapping[str, Any]] | None,
    confirmed: Collection[str] = (),
) -> StepResult:
    now = rt.now()
    with rt.uow() as uow:
        state = None
        if known is None:
            found = uow.inbox.get_for_step(task_id)  # the state comes with it: no read of its own
            if found is None:
                raise _missing(uow, task_id)
            task, instance, state = found
            case = _case_header(uow, task, instance)
        else:
            task, instance = known
            case = instance
        authorization.require_task(actor, task, case)
        if task["assignee"] and task["assignee"] != actor.username and not authorization.is_admin(actor):
            raise TaskHeldByOther(task["assignee"])
        form = form_of(rt, uow, task, instance)
        if form is not None:
            if options is None:  # the choices this person is offered are the only ones accepted
                choices = OptionContext(actor, task["zone"] or case.get("zone"), case, now)
                options = allowed_values(options_for(rt, uow, form, choices))
            data = submission.checked(form, data, options, confirmed, forms=forms_of(rt, uow, task, instance))
            errors = run_form_checks(
                rt, uow, task["form"], data, OptionContext(actor, task["zone"], case, now))
            if errors:
                raise ValidationFailed("il modulo contiene errori", errors)
        loaded = load(rt, uow, task["instance_id"], header=instance, state=state)
        loaded.trusted = known is not None
        if loaded.header["status"] not in (InstanceStatus.RUNNING, InstanceStatus.WAITING):
            rt.workflows.put(loaded.id, loaded.unchanged())
            raise CaseNotActive(f"the case is {loaded.header['status']}: tasks cannot be completed now",
                                loaded.header["status"])
        handler = service_handler(rt, uow, loaded.id, now)
        if known is not None:
            handler = _after_checking(uow, task, instance, handler)
        try:
            snapshot = rt.engine.complete_task(loaded.handle, task_id, dict(data), now, handler)
        except (NotFound, InvalidState):
            raise already_completed(uow, task_id) or TaskNoLongerOpen() from None
        save(rt, uow, loaded, snapshot, now, actor, "task.completed", {"task": task["name"], "data": dict(data)},
             task_id=task_id, element_id=task["element_id"], completed=(task_id, task["assignee"]))
        run_completion_records(rt, uow, task, data, actor, now)
        result = step_result(loaded.id, snapshot, actor, case, loaded.version)
        uow.commit()
    return result


def _after_checking(
    uow: UnitOfWork, task: Mapping[str, Any], instance: Mapping[str, Any], handler: Callable[..., Any]
) -> Callable[..., Any]:
    """A service handler that first makes sure the task and instance are as this process knew them.

    A connector may reach outside the transaction, so it must not run for a step that is
    going to be done again.
    """
    checked = False

    def call(operation: str, params: dict[str, Any], data: dict[str, Any]) -> Any:
        nonlocal checked
        if not checked:
            found = uow.inbox.get_with_instance(task["id"])
            if (found is None or found[0]["assignee"] != task["assignee"]
                    or found[1]["row_version"] != instance["row_version"]):
                raise ConcurrentChange()
            checked = True
        return handler(operation, params, data)

    return call


def claim(rt: Runtime, task_id: str, actor: Actor) -> None:
    """Take a task so colleagues know someone works on it."""
    now = rt.now()
    with rt.uow() as uow:
        task, _, case = _task_and_case(uow, task_id)
        authorization.require_task(actor, task, case)
        if task["assignee"] == actor.username:
            return
        if task["assignee"] is not None:
            raise TaskHeldByOther(task["assignee"])
        if not uow.inbox.set_assignee(task_id, actor.username, None):
            raise TaskHeldByOther(None)
        uow.audit.record(now, actor.username, "task.claimed", task["instance_id"], task_id, task["element_id"])
        uow.after_commit(lambda: rt.workflows.note_task(task_id, assignee=actor.username))
        uow.commit()


def unclaim(rt: Runtime, task_id: str, actor: Actor) -> None:
    """Give a task back to the shared queue (the assignee or an administrator)."""
    now = rt.now()
    with rt.uow() as uow:
        task, _, case = _task_and_case(uow, task_id)
        authorization.require_task(actor, task, case)
        if task["assignee"] is None:
            return
        if task["assignee"] != actor.username and not authorization.is_admin(actor):
            raise Forbidden("only the person who took the task or an administrator can release it")
        uow.inbox.set_assignee(task_id, None, task["assignee"])
        uow.audit.record(now, actor.username, "task.released", task["instance_id"], task_id, task["element_id"])
        uow.after_commit(lambda: rt.workflows.note_task(task_id, assignee=None))
        uow.commit()


def save_draft(
    rt: Runtime, task_id: str, draft: Mapping[str, Any], actor: Actor,
    options: Mapping[str, list[str]] | None = None,
) -> None:
    """Keep half-filled form data on the task (not run): held to the form's limits, required fields may wait."""
    now = rt.now()
    with rt.uow() as uow:
        task, instance, case = _task_and_case(uow, task_id)
        authorization.require_task(actor, task, case)
        form = form_of(rt, uow, task, instance)
        if form is not None:
            if options is None:
                choices = OptionContext(actor, task["zone"] or case.get("zone"), case, now)
                options = allowed_values(options_for(rt, uow, form, choices))
            errors = validate(form, draft, options, forms_of(rt, uow, task, instance), draft=True)
            if errors:
                raise ValidationFailed("la bozza contiene errori", errors)
        elif draft:
            raise ValidationFailed("this task has no form", {"_form": ["Questa attività non ha un modulo."]})
        uow.inbox.save_draft(task_id, dict(draft))
        uow.audit.record(now, actor.username, "task.draft_saved", task["instance_id"], task_id, task["element_id"])
        uow.after_commit(lambda: rt.workflows.note_task(task_id, draft=dict(draft)))
        uow.commit()

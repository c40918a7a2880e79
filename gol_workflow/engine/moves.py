"""Moving a live workflow by hand: back to a completed task, past the open one, or one open branch cancelled.

The moves use SpiffWorkflow's own facilities (`reset_from_task_id`, `Task.run`, `Task.cancel`,
`Task.complete`) on the workflow they are given; whether a move is safe is decided by the
service from what the move did (`MoveEffect`) on a throw-away copy first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from .runner import ENDED_KEY, STARTED_KEY, WorkflowHandle, _definitions, _due_of

SKIPPED_KEY = "gol_skipped"  # set on a task completed by an administrator without its work
CANCELLED_KEY = "gol_cancelled"  # set on each task of a branch an administrator cancelled


class MoveKind(StrEnum):
    """The three moves an administrator can make."""

    BACK_TO = "back_to"
    SKIP = "skip"
    CANCEL_BRANCH = "cancel_branch"


class MoveProblem(StrEnum):
    """Why a move cannot be made on this workflow (the service words each one)."""

    UNKNOWN_TASK = "unknown-task"
    NOT_COMPLETED = "not-completed"  # back_to: the task has not run
    NOT_OPEN = "not-open"  # skip / cancel_branch: the task is not open
    NOT_A_USER_TASK = "not-a-user-task"  # skip: only a person's task is skipped
    MULTI_INSTANCE = "multi-instance"
    CALL_ACTIVITY = "call-activity"
    ONLY_BRANCH = "only-branch"
    BRANCH_DECIDES = "branch-decides"  # cancel_branch: a gateway choice lies on the branch


class MoveNotPossible(Exception):
    """The workflow does not allow this move; `problem` says why, `element` where."""

    def __init__(self, problem: MoveProblem, element: str | None = None) -> None:
        super().__init__(f"{problem.value}: {element or ''}")
        self.problem = problem
        self.element = element


@dataclass(frozen=True)
class OpenItem:
    """Something a case waits on: a person's task, a timer or a message (or an automatic step running)."""

    task_id: str
    element_id: str
    name: str
    kind: str  # task | timer | message | step
    due_at: datetime | None = None
    lane: str | None = None
    calls: tuple[str, ...] = ()  # the call activities it runs inside, outermost first


@dataclass(frozen=True)
class DoneTask:
    """A person's task that ran: the latest run of each element can be redone."""

    task_id: str
    element_id: str
    name: str
    ended_at: datetime | None
    in_multi_instance: bool
    calls: tuple[str, ...]


@dataclass
class MoveEffect:
    """What a move did to the workflow, before the engine ran on."""

    target_element: str
    undone: list[DoneTask] = field(default_factory=list)  # completed tasks a back_to removed (person's or not)
    undone_services: list[str] = field(default_factory=list)  # element ids of service steps that had run
    since: datetime | None = None  # back_to: when the redone task first started (what came later is undone)
    cancelled: list[str] = field(default_factory=list)  # element ids cancelled with a branch


def _name(spec: Any) -> str:
    return getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _task(handle: WorkflowHandle, task_id: str) -> Any:
    try:
        task = handle.workflow.get_task_from_id(UUID(task_id))
    except (ValueError, WorkflowException, KeyError):
        task = None
    if task is None:
        raise MoveNotPossible(MoveProblem.UNKNOWN_TASK, task_id)
    return task


def calls_of(handle: WorkflowHandle, task: Any) -> tuple[str, ...]:
    """The call activities (element ids) a task runs inside, outermost first."""
    chain: list[str] = []
    workflow = task.workflow
    while getattr(workflow, "parent_task_id", None) is not None:
        parent = handle.workflow.get_task_from_id(workflow.parent_task_id)
        if isinstance(parent.task_spec, CallActivity):
            chain.append(parent.task_spec.bpmn_id)
        workflow = parent.workflow
    return tuple(reversed(chain))


def in_multi_instance(handle: WorkflowHandle, task: Any) -> bool:
    """True when a task is (or runs inside) an instance of a multi-instance or loop activity."""
    current = task
    while current is not None:
        if isinstance(current.task_spec, LoopTask) or isinstance(getattr(current.parent, "task_spec", None), LoopTask):
            return True
        if current.parent is None:
            parent_id = getattr(current.workflow, "parent_task_id", None)
            current = handle.workflow.get_task_from_id(parent_id) if parent_id is not None else None
        else:
            current = current.parent
    return False


def _kind_of(task: Any) -> tuple[str, datetime | None]:
    spec = task.task_spec
    if task.has_state(TaskState.READY) and spec.manual:
        return "task", None
    for definition in _definitions(getattr(spec, "event_definition", None)):
        if isinstance(definition, TimerEventDefinition):
            return "timer", _due_of(task.internal_data.get("event_value"))
        if isinstance(definition, MessageEventDefinition):
            return "message", None
    return "step", None


def open_items(handle: WorkflowHandle) -> dict[str, OpenItem]:
    """Task id -> what the case waits on now: ready user tasks, waiting timers and messages, failed steps."""
    found: dict[str, OpenItem] = {}
    for task in handle.workflow.get_tasks_iterator(state=TaskState.READY | TaskState.WAITING | TaskState.ERROR):
        spec = task.task_spec
        if getattr(spec, "bpmn_id", None) is None:
            continue
        if task.has_state(TaskState.READY) and not spec.manual:
            continue  # the engine runs it at once
        if task.has_state(TaskState.WAITING) and not isinstance(spec, CatchingEvent):
            continue  # a join or a subprocess waiting for its inside
        kind, due = _kind_of(task)
        if task.has_state(TaskState.ERROR):
            kind = "error"
        found[str(task.id)] = OpenItem(str(task.id), spec.bpmn_id, _name(spec), kind, due,
                                       getattr(spec, "lane", None), calls_of(handle, task))
    return found


def done_tasks(handle: WorkflowHandle) -> list[DoneTask]:
    """The person's tasks that ran, the latest run of each element, most recent first."""
    latest: dict[str, tuple[float, DoneTask]] = {}
    for task in handle.workflow.get_tasks_iterator():
        spec = task.task_spec
        if not task.has_state(TaskState.COMPLETED) or not spec.manual or getattr(spec, "bpmn_id", None) is None:
            continue
        ended = _moment(task.internal_data.get(ENDED_KEY))
        item = DoneTask(str(task.id), spec.bpmn_id, _name(spec), ended, in_multi_instance(handle, task),
                        calls_of(handle, task))
        key = ended.timestamp() if ended else task.last_state_change
        if spec.bpmn_id not in latest or key >= latest[spec.bpmn_id][0]:
            latest[spec.bpmn_id] = (key, item)
    return [item for _, item in sorted(latest.values(), key=lambda pair: pair[0], reverse=True)]


def _completed_under(handle: WorkflowHandle, task: Any) -> Iterator[Any]:
    """Completed tasks a reset of `task` removes: its descendants, inside subprocesses too."""
    for child in task:
        if child is not task and child.has_state(TaskState.COMPLETED):
            yield child
        sub = handle.workflow.subprocesses.get(child.id)
        if sub is not None:
            yield from (t for t in sub.get_tasks_iterator() if t.has_state(TaskState.COMPLETED))


def back_to(handle: WorkflowHandle, task_id: str) -> MoveEffect:
    """Reset the workflow to a completed user task: it is ready again, what came after it is gone."""
    task = _task(handle, task_id)
    spec = task.task_spec
    if not task.has_state(TaskState.COMPLETED) or not spec.manual:
        raise MoveNotPossible(MoveProblem.NOT_COMPLETED, getattr(spec, "bpmn_id", None))
    if in_multi_instance(handle, task):
        raise MoveNotPossible(MoveProblem.MULTI_INSTANCE, spec.bpmn_id)
    effect = MoveEffect(spec.bpmn_id, since=_moment(task.internal_data.get(STARTED_KEY)))
    for done in _completed_under(handle, task):
        done_spec = done.task_spec
        if getattr(done_spec, "bpmn_id", None) is None:
            continue
        if done_spec.manual:
            effect.undone.append(DoneTask(str(done.id), done_spec.bpmn_id, _name(done_spec),
                                          _moment(done.internal_data.get(ENDED_KEY)), False, ()))
        elif isinstance(done_spec, ServiceTask):
            effect.undone_services.append(done_spec.bpmn_id)
    handle.workflow.reset_from_task_id(task.id)
    _prune_events(handle)
    # The reset leaves the task FUTURE with its parent's data: make it a person's open task again.
    if not task.has_state(TaskState.READY):
        task._set_state(TaskState.READY)
    task.internal_data.pop(ENDED_KEY, None)
    return effect


def skip(handle: WorkflowHandle, task_id: str, by: str, reason: str) -> MoveEffect:
    """Complete an open user task without its work (recorded on the task as skipped, by whom and why)."""
    task = _task(handle, task_id)
    spec = task.task_spec
    if not task.has_state(TaskState.READY):
        raise MoveNotPossible(MoveProblem.NOT_OPEN, getattr(spec, "bpmn_id", None))
    if not spec.manual:
        raise MoveNotPossible(MoveProblem.NOT_A_USER_TASK, getattr(spec, "bpmn_id", None))
    if in_multi_instance(handle, task):
        raise MoveNotPossible(MoveProblem.MULTI_INSTANCE, spec.bpmn_id)
    task.internal_data[SKIPPED_KEY] = {"by": by, "reason": reason}
    task.run()
    return MoveEffect(spec.bpmn_id)


def _is_join(spec: Any) -> bool:
    return isinstance(spec, ParallelGateway | InclusiveGateway) and len(spec.inputs) > 1


def cancel_branch(handle: WorkflowHandle, task_id: str) -> MoveEffect:
    """End the branch of an open task without its work: up to the join that waits for it, or its end.

    A join waiting for the branch stops waiting: the branch's remaining elements are marked
    done without running (SpiffWorkflow's parallel join fires only on completed inputs).
    """
    task = _task(handle, task_id)
    spec = task.task_spec
    if not task.has_state(TaskState.READY | TaskState.WAITING):
        raise MoveNotPossible(MoveProblem.NOT_OPEN, getattr(spec, "bpmn_id", None))
    if in_multi_instance(handle, task):
        raise MoveNotPossible(MoveProblem.MULTI_INSTANCE, spec.bpmn_id)
    others = [t for t in open_items(handle).values()
              if t.task_id != task_id and calls_of(handle, task) == t.calls and t.kind != "error"
              and _same_workflow(handle, t.task_id, task)]
    try:
        chain, decides = _branch(task), None
    except MoveNotPossible as exc:
        chain, decides = None, exc
    if chain is None and not others:
        raise MoveNotPossible(MoveProblem.ONLY_BRANCH, spec.bpmn_id)
    if decides is not None:
        raise decides
    effect = MoveEffect(spec.bpmn_id)
    if chain is None:  # the branch ends by itself: SpiffWorkflow cancels it
        effect.cancelled.append(spec.bpmn_id)
        task.cancel()
        _prune_events(handle)
        return effect
    for member in chain:
        member.internal_data[CANCELLED_KEY] = True
        effect.cancelled.append(member.task_spec.bpmn_id)
        if not member.has_state(TaskState.READY | TaskState.WAITING):
            member._set_state(TaskState.READY)
        member.complete()
    _prune_events(handle)
    return effect


def _prune_events(handle: WorkflowHandle) -> None:
    """Forget waits whose task a move removed or ended (the reset leaves them in the event manager)."""
    workflow = handle.workflow
    live = {id(w) for w in (workflow, *workflow.subprocesses.values())}
    manager = workflow.event_manager
    for key, task in list(manager.tasks.items()):
        if id(task.workflow) not in live or task.workflow.tasks.get(task.id) is not task \
                or task.has_state(TaskState.FINISHED_MASK):
            manager.tasks.pop(key, None)


def _same_workflow(handle: WorkflowHandle, other_id: str, task: Any) -> bool:
    other = handle.workflow.get_task_from_id(UUID(other_id))
    return other is not None and other.workflow is task.workflow


def _branch(task: Any) -> list[Any] | None:
    """The open task and the elements after it up to a join waiting for it; None when no join waits."""
    chain = [task]
    current = task
    while True:
        children = [c for c in current.children if not c.has_state(TaskState.FINISHED_MASK)]
        if len(children) != 1:
            break
        child = children[0]
        if _is_join(child.task_spec):
            return chain
        if isinstance(child.task_spec, EndEvent):
            return None
        if isinstance(child.task_spec, ExclusiveGateway) and len(child.task_spec.outputs) > 1:
            raise MoveNotPossible(MoveProblem.BRANCH_DECIDES, child.task_spec.bpmn_id)
        chain.append(child)
        current = child
    return None


def error_task_ids(handle: WorkflowHandle) -> set[str]:
    """Ids of the tasks in error."""
    return {str(t.id) for t in handle.workflow.get_tasks_iterator(state=TaskState.ERROR)}


"""What an administrator reads from (and repairs in) a live workflow: waits, current data, data edits."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from .runner import ENDED_KEY, STARTED_KEY, WorkflowHandle, _definitions, _due_of
from .parsing import CompiledProcess

# Tasks whose data is what the instance carries on with: the ones that will run next.
CURRENT = TaskState.READY | TaskState.WAITING | TaskState.ERROR | TaskState.STARTED


@dataclass(frozen=True)
class WaitingEvent:
    """A timer or message an instance waits for, on a diagram element."""

    element_id: str
    element_name: str | None
    kind: str  # timer | message | event
    due_at: datetime | None = None
    message: str | None = None


def waiting_events(handle: WorkflowHandle) -> list[WaitingEvent]:
    """The timers (with due time) and messages the workflow waits for, earliest timer first."""
    found: list[WaitingEvent] = []
    for task in handle.workflow.event_manager.tasks.values():
        if not task.has_state(TaskState.WAITING):
            continue
        spec = task.task_spec
        for definition in _definitions(spec.event_definition):
            kind, due, message = "event", None, None
            if isinstance(definition, TimerEventDefinition):
                kind, due = "timer", _due_of(task.internal_data.get("event_value"))
            elif isinstance(definition, MessageEventDefinition):
                kind, message = "message", definition.name
            found.append(WaitingEvent(spec.bpmn_id, getattr(spec, "bpmn_name", None), kind, due, message))
    return sorted(found, key=lambda e: (e.due_at is None, e.due_at.timestamp() if e.due_at else 0.0, e.element_id))


# What the diagram shows for an element when its tasks differ (a loop ran it before and it is open again):
# a failure first, then what is open now, then what waits, then what is done.
_SHOWN = {"ERROR": 5, "READY": 4, "STARTED": 4, "WAITING": 3, "COMPLETED": 2}


def diagram_states(handle: WorkflowHandle) -> dict[str, str]:
    """Element id -> the state the diagram marks it with: an element open again after a loop shows as open."""
    result: dict[str, str] = {}
    for task in handle.workflow.get_tasks_iterator():
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if bpmn_id is None:
            continue
        state = TaskState.get_name(task.state)
        if _SHOWN.get(state, 0) > _SHOWN.get(result.get(bpmn_id, ""), 0):
            result[bpmn_id] = state
    return result


def _current_tasks(handle: WorkflowHandle) -> Iterator[Any]:
    for task in handle.workflow.get_tasks_iterator(state=CURRENT):
        if getattr(task.task_spec, "bpmn_id", None) is not None or task.has_state(TaskState.READY):
            yield task


def current_data(handle: WorkflowHandle) -> dict[str, Any]:
    """The data the instance carries on with: that of its open task, else of its latest step."""
    best = None
    for task in _current_tasks(handle):
        if task.task_spec.manual and task.has_state(TaskState.READY):
            return dict(task.data)
        if best is None or task.last_state_change > best.last_state_change:
            best = task
    if best is not None and not best.has_state(TaskState.STARTED):
        return dict(best.data)
    return dict(handle.data())


def edit_current_data(handle: WorkflowHandle, changes: Mapping[str, Any], removed: Collection[str]) -> int:
    """Set and remove top-level keys in the data of every open task and of the latest step; returns tasks touched."""
    touched = 0
    targets = list(_current_tasks(handle))
    last = handle.workflow.last_task
    if last is not None and last not in targets:
        targets.append(last)
    for task in targets:
        for key in removed:
            task.data.pop(key, None)
        for key, value in changes.items():
            task.data[key] = deepcopy(value)
        touched += 1
    return touched


@dataclass(frozen=True)
class PathStep:
    """One element that ran (or runs now): what it is and when, by the service's clock."""

    task_id: str
    element_id: str
    name: str
    kind: str  # the BPMN element type, e.g. userTask, exclusiveGateway
    state: str  # COMPLETED, READY, WAITING, STARTED, ERROR or CANCELLED (interrupted)
    started_at: datetime | None
    ended_at: datetime | None


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


_KINDS = {"SubWorkflowTask": "subProcess", "NoneTask": "task", "TransactionSubprocess": "transaction"}


def _kind(spec: Any) -> str:
    name = type(spec).__name__
    return _KINDS.get(name, name[0].lower() + name[1:])


def path(handle: WorkflowHandle) -> list[PathStep]:
    """Every element that ran, in the order it started (subprocesses included)."""
    steps: list[tuple[datetime, float, PathStep]] = []
    for task in handle.workflow.get_tasks_iterator():
        spec = task.task_spec
        bpmn_id = getattr(spec, "bpmn_id", None)
        started = _moment(task.internal_data.get(STARTED_KEY))
        if bpmn_id is None or started is None:
            continue
        step = PathStep(str(task.id), bpmn_id, getattr(spec, "bpmn_name", None) or bpmn_id, _kind(spec),
                        TaskState.get_name(task.state), started, _moment(task.internal_data.get(ENDED_KEY)))
        steps.append((started, task.last_state_change, step))
    return [step for _, _, step in sorted(steps, key=lambda item: (item[0], item[2].ended_at is None, item[1]))]


def element_names(handle: WorkflowHandle) -> dict[str, str]:
    """Element id -> name for every element of the version the workflow runs on."""
    return names_in(handle.compiled)


def names_in(compiled: CompiledProcess) -> dict[str, str]:
    """Element id -> name for every element of a compiled process version."""
    names: dict[str, str] = {}
    specs = [compiled.spec, *compiled.subprocess_specs.values()]
    for process in specs:
        for spec in process.task_specs.values():
            bpmn_id = getattr(spec, "bpmn_id", None)
            if bpmn_id:
                names.setdefault(bpmn_id, getattr(spec, "bpmn_name", None) or bpmn_id)
    return names

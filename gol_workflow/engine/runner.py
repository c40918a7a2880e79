"""Runs workflows: start, complete, fire timers, deliver messages, and take snapshots."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition as BaseMessage
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask as ServiceTaskMixin
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from ..domain.errors import InvalidState, NotFound, SkipRefused, ValidationFailed
from ..domain.model import InstanceStatus, OutgoingMessage, ReadyTask, Snapshot, StepError, Subscription
from .error_kinds import cause_of, kind_of, skippable
from .parsing import CompiledProcess, TaskScope
from .limits import ScriptLimits
from .scripting import GolScriptEngine, ServiceHandler, engine_context, install_clock_hook
from .serialization import StateSerializer

_MAX_CATCH_UP_ROUNDS = 500
# Deeper than this, call activities are taken for a recursion that never ends (a version deployed
# before validation refused call cycles): the instance stops in error instead of running for ever.
MAX_CALL_DEPTH = 32


def _depth_guard(task: Any) -> None:
    """Refuse to run anything in a called process nested deeper than MAX_CALL_DEPTH."""
    workflow = task.workflow
    if workflow.depth <= MAX_CALL_DEPTH:
        return
    caller = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
    message = (f"call activities nested more than {MAX_CALL_DEPTH} deep (process '{workflow.spec.name}' "
               "is called again and again): a recursive call never ends")
    raise WorkflowTaskException(message, task=caller)


class WorkflowHandle:
    """A live workflow bound to its compiled process."""

    __slots__ = ("compiled", "workflow", "ready", "subscriptions")

    def __init__(self, compiled: CompiledProcess, workflow: BpmnWorkflow) -> None:
        self.compiled = compiled
        self.workflow = workflow
        # What the last stored snapshot held: lets the service write only what changed.
        self.ready: frozenset[str] = frozenset()
        self.subscriptions: frozenset[Subscription] = frozenset()

    def remember_projection(self) -> None:
        """Record the current ready tasks and subscriptions as the stored baseline."""
        self.ready = frozenset(self.ready_ids())
        self.subscriptions = frozenset(subscriptions(self.workflow))

    def waiting_on(self) -> list[str]:
        """Names of the timers and messages the workflow waits for."""
        names = []
        for task in self.workflow.event_manager.tasks.values():
            if task.has_state(TaskState.WAITING):
                spec = task.task_spec
                names.append(getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name)
        return names

    def ready_ids(self) -> set[str]:
        """Ids of the user tasks ready now."""
        return {str(t.id) for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)}

    def task_data(self, task_id: str) -> dict[str, Any]:
        """A copy of the data a task sees."""
        return dict(self._task(task_id).data)

    def task_instructions(self, task_id: str) -> str | None:
        """Raw (Jinja) instructions of a user task."""
        meta = self.compiled.meta_for(self._task(task_id).task_spec.name)
        # A task without instructions shows its BPMN documentation (what Camunda Modeler writes).
        return (meta.instructions or meta.documentation) if meta else None

    def data(self) -> dict[str, Any]:
        """Data of the most recently completed task, in any subprocess (the case's current data)."""
        # The top workflow's last_task does not move while work goes on inside a subprocess.
        latest = self.workflow.last_task
        for subprocess in self.workflow.subprocesses.values():
            candidate = subprocess.last_task
            if candidate is not None and (latest is None or candidate.last_state_change > latest.last_state_change):
                latest = candidate
        if latest is not None:
            return latest.data
        tasks = self.workflow.get_tasks(state=TaskState.READY)
        return tasks[0].data if tasks else {}

    def _task(self, task_id: str) -> Any:
        try:
            task = self.workflow.get_task_from_id(UUID(task_id))
        except (ValueError, WorkflowException, KeyError):
            task = None
        if task is None:
            raise NotFound(f"task {task_id} not found in this instance")
        return task


class ProcessEngine:
    """The only component that talks to SpiffWorkflow at run time."""

    def __init__(
        self, timezone: str = "Europe/Rome", script_time_limit: float = 2.0, script_memory_limit: int = 128
    ) -> None:
        install_clock_hook()
        limits = ScriptLimits(time=script_time_limit, memory_mb=script_memory_limit)
        self.script_engine = GolScriptEngine(timezone, limits=limits)
        self.serializer = StateSerializer()

    # -- life cycle -------------------------------------------------------------------------

    def start(
        self,
        compiled: CompiledProcess,
        data: Mapping[str, Any],
        now: datetime,
        services: ServiceHandler | None = None,
    ) -> tuple[WorkflowHandle, Snapshot]:
        """Create a workflow with initial data and run it to its first wait state."""
        workflow = BpmnWorkflow(compiled.spec, compiled.subprocess_specs, script_engine=self.script_engine)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        handle = WorkflowHandle(compiled, workflow)
        return handle, self._advance(handle, now, services)

    def load(self, compiled: CompiledProcess, state: str | bytes) -> WorkflowHandle:
        """Restore a workflow from stored state around its pinned specs."""
        workflow = self.serializer.loads(state, compiled.spec, compiled.subprocess_specs)
        workflow.script_engine = self.script_engine
        handle = WorkflowHandle(compiled, workflow)
        handle.remember_projection()
        return handle

    def dumps(self, handle: WorkflowHandle) -> str:
        """Serialise a workflow's state."""
        return self.serializer.dumps(handle.workflow)

    def complete_task(
        self,
        handle: WorkflowHandle,
        task_id: str,
        data: Mapping[str, Any],
        now: datetime,
        services: ServiceHandler | None = None,
    ) -> Snapshot:
        """Complete a ready user task with data and run to the next wait state."""
        task = handle._task(task_id)
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise InvalidState("this task is not waiting to be completed")
        with engine_context(now, services):
            task.data.update(data)
            try:
                task.run()
            except SpiffWorkflowException as exc:
                return self._error_snapshot(handle, exc, now)
            except Exception as exc:  # noqa: BLE001 - e.g. a correlation expression on the next event fails
                return self._error_snapshot(handle, exc, now)
        return self._advance(handle, now, services)

    def fire_timers(self, handle: WorkflowHandle, now: datetime, services: ServiceHandler | None = None) -> Snapshot:
        """Fire every timer due at `now` (catching up missed cycles) and run on."""
        return self._advance(handle, now, services)

    def deliver(
        self,
        handle: WorkflowHandle,
        name: str,
        payload: Any,
        now: datetime,
        services: ServiceHandler | None = None,
    ) -> Snapshot:
        """Deliver a message the workflow waits for, then run on."""
        correlations = self._waiting_correlations(handle.workflow, name)
        if correlations is None:
            raise InvalidState(f"the instance is not waiting for message {name!r}")
        event = BpmnEvent(MessageEventDefinition(name), payload=payload, correlations=correlations)
        with engine_context(now, services):
            try:
                handle.workflow.send_event(event)
            except SpiffWorkflowException as exc:
                return self._error_snapshot(handle, exc, now)
            except Exception as exc:  # noqa: BLE001 - a payload the correlation expressions cannot read
                # The sender's mistake, not the instance's: refuse the message, leave the instance alone.
                detail = f"the waiting instance cannot read its correlation from this payload ({exc})"
                raise ValidationFailed(f"message {name!r} refused: {detail}", {"payload": [detail]}) from None
        return self._advance(handle, now, services)

    def retry(self, handle: WorkflowHandle, now: datetime, services: ServiceHandler | None = None) -> Snapshot:
        """Put failed tasks back to ready and run again."""
        failed = handle.workflow.get_tasks(state=TaskState.ERROR)
        if not failed:
            raise InvalidState("nothing failed in this instance")
        for task in failed:
            task._set_state(TaskState.READY)
        return self._advance(handle, now, services)

    def retry_with(self, handle: WorkflowHandle, changes: Mapping[str, Any], now: datetime,
                   services: ServiceHandler | None = None) -> Snapshot:
        """Put `changes` into the failed tasks' data, then run them again."""
        failed = handle.workflow.get_tasks(state=TaskState.ERROR)
        if not failed:
            raise InvalidState("nothing failed in this instance")
        for task in failed:
            task.data.update(dict(changes))
            task._set_state(TaskState.READY)
        return self._advance(handle, now, services)

    def failed_data(self, handle: WorkflowHandle) -> dict[str, Any]:
        """The data of the first failed task (empty when nothing failed)."""
        failed = handle.workflow.get_tasks(state=TaskState.ERROR)
        return dict(failed[0].data) if failed else {}

    def skip_failed(self, handle: WorkflowHandle, now: datetime, services: ServiceHandler | None = None) -> Snapshot:
        """Complete the failed tasks without running them (their script, call or rule), then run on.

        Refused for a decision or a call of a subprocess: completing those without running them
        would choose no path, or every path.
        """
        failed = handle.workflow.get_tasks(state=TaskState.ERROR)
        if not failed:
            raise InvalidState("nothing failed in this instance")
        for task in failed:
            if not skippable(task.task_spec):
                raise SkipRefused(f"{task.task_spec.bpmn_name or task.task_spec.bpmn_id} cannot be skipped: "
                                  "it decides the path or calls a subprocess")
        with engine_context(now, services):
            for task in failed:
                task._set_state(TaskState.READY)
                task.complete()
        return self._advance(handle, now, services)

    def cancel(self, handle: WorkflowHandle) -> None:
        """Cancel every open task (termination)."""
        handle.workflow.cancel()

    def snapshot(self, handle: WorkflowHandle, now: datetime) -> Snapshot:
        """Snapshot without running anything (e.g. after an administrative edit)."""
        return self._snapshot(handle, None, now=now)

    # -- internals --------------------------------------------------------------------------

    def _advance(self, handle: WorkflowHandle, now: datetime, services: ServiceHandler | None) -> Snapshot:
        workflow = handle.workflow
        with engine_context(now, services):
            try:
                workflow.do_engine_steps(will_complete_task=_depth_guard)
                # do_engine_steps ends with a timer refresh that can leave a fired timer READY,
                # and a refresh fires one occurrence per timer: loop to run on and catch up.
                for _ in range(_MAX_CATCH_UP_ROUNDS):
                    manual, automatic = _ready_tasks(workflow)
                    due = next_due(workflow)
                    if not automatic and (due is None or due >= now):
                        break
                    before = self._progress_marker(workflow)
                    workflow.refresh_timers()
                    workflow.do_engine_steps(will_complete_task=_depth_guard)
                    if self._progress_marker(workflow) == before:
                        manual, _ = _ready_tasks(workflow)
                        break
            except SpiffWorkflowException as exc:
                return self._error_snapshot(handle, exc, now)
            except Exception as exc:  # noqa: BLE001 - a library bug must not lose the step
                return self._error_snapshot(handle, exc, now)
        return self._snapshot(handle, None, manual, now)

    @staticmethod
    def _progress_marker(workflow: BpmnWorkflow) -> tuple[int, int]:
        completed = sum(1 for t in workflow.get_tasks_iterator() if t.state == TaskState.COMPLETED)
        return completed, len(workflow.tasks) + sum(len(sp.tasks) for sp in workflow.subprocesses.values())

    def _error_snapshot(self, handle: WorkflowHandle, exc: BaseException, now: datetime) -> Snapshot:
        task = getattr(exc, "task", None)
        spec = getattr(task, "task_spec", None)
        line = getattr(exc, "line_number", None) or None
        retryable = isinstance(spec, ServiceTaskMixin)
        message = str(exc.args[0]) if exc.args else exc.__class__.__name__
        notes = [n for n in getattr(exc, "__notes__", []) if n]
        if notes:
            message = f"{message} ({'; '.join(notes)})"
        error = StepError(
            element_id=getattr(spec, "bpmn_id", None),
            element_name=getattr(spec, "bpmn_name", None),
            message=message,
            line=int(line) if isinstance(line, int) and line > 0 else None,
            source_line=getattr(exc, "error_line", None) or None,
            retryable=retryable,
            kind=kind_of(exc, spec),
            exception=type(cause_of(exc)).__name__,
        )
        return self._snapshot(handle, error, now=now)

    def _snapshot(
        self, handle: WorkflowHandle, error: StepError | None, manual: list[Any] | None = None,
        now: datetime | None = None,
    ) -> Snapshot:
        workflow = handle.workflow
        if now is not None:
            stamp_path(workflow, now)
        ready: dict[str, ReadyTask] = {}
        if manual is None:
            manual, _ = _ready_tasks(workflow)
        for task in manual:
            meta = handle.compiled.meta_for(task.task_spec.name)
            spec = task.task_spec
            data = task.data
            case_id, zone = _case_of(data, handle.compiled.task_scope)
            ready[str(task.id)] = ReadyTask(
                id=str(task.id),
                element_id=spec.bpmn_id,
                name=(meta.name if meta else spec.bpmn_name) or spec.bpmn_id,
                lane=getattr(spec, "lane", None),
                form=meta.form if meta else None,
                due_in=meta.due_in if meta else None,
                case_id=case_id,
                zone=zone,
                groups=meta.candidates.groups if meta else (),
                users=meta.candidates.users if meta else (),
                participant=_participant_of(data),
            )
        if error is not None:
            status = InstanceStatus.ERROR
        elif workflow.is_completed():
            status = InstanceStatus.COMPLETED
        elif ready:
            status = InstanceStatus.RUNNING
        else:
            status = InstanceStatus.WAITING
        messages = [
            OutgoingMessage(
                name=event.event_definition.name,
                payload=event.payload,
                correlations=dict(event.correlations or {}),
            )
            for event in workflow.get_events()
            if isinstance(event.event_definition, BaseMessage)
        ]
        return Snapshot(
            state=self.serializer.dumps(workflow),
            status=status,
            ready=ready,
            next_due_at=None if status is InstanceStatus.COMPLETED else next_due(workflow),
            subscriptions=frozenset(subscriptions(workflow)),
            messages=messages,
            data=handle.data(),
            error=error,
            waiting=handle.waiting_on(),
        )

    @staticmethod
    def _waiting_correlations(workflow: BpmnWorkflow, name: str) -> dict[str, Any] | None:
        for task in workflow.event_manager.tasks.values():
            for definition in _definitions(task.task_spec.event_definition):
                if isinstance(definition, BaseMessage) and definition.name == name:
                    return _correlations_for(definition, task.workflow.correlations)
        return None


# The service's clock (simulated or not) on each element that ran: SpiffWorkflow keeps only the
# wall-clock time of a task's last change. Kept in the task's internal data, which is stored with it.
STARTED_KEY = "gol_started"
ENDED_KEY = "gol_ended"
_RAN = TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.COMPLETED | TaskState.ERROR
_ENDED = TaskState.COMPLETED | TaskState.CANCELLED


def stamp_path(workflow: BpmnWorkflow, now: datetime) -> None:
    """Note when each diagram element started and ended, as of the step that just ran."""
    moment = now.astimezone(UTC).isoformat()
    for task in workflow.get_tasks_iterator(state=_RAN | TaskState.CANCELLED):
        if getattr(task.task_spec, "bpmn_id", None) is None:
            continue
        internal = task.internal_data
        if task.has_state(TaskState.CANCELLED) and STARTED_KEY not in internal:
            continue  # never ran: a branch not taken, an event that did not happen
        if STARTED_KEY not in internal:
            internal[STARTED_KEY] = moment
        if task.has_state(_ENDED) and ENDED_KEY not in internal:
            internal[ENDED_KEY] = moment


def _ready_tasks(workflow: BpmnWorkflow) -> tuple[list[Any], list[Any]]:
    """Ready tasks in one walk of the tree: (for people, for the engine)."""
    manual: list[Any] = []
    automatic: list[Any] = []
    for task in workflow.get_tasks_iterator(state=TaskState.READY):
        (manual if task.task_spec.manual else automatic).append(task)
    return manual, automatic


def _first(data: Mapping[str, Any], paths: tuple[str, ...]) -> Any:
    for path in paths:
        value: Any = data
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None:
            return value
    return None


def _case_of(data: Mapping[str, Any], scope: TaskScope) -> tuple[str | None, str | None]:
    """The case a task is about: its own `case_id` (which the service gives every instance), or that of
    the multi-instance item the process declares; its zone at the declared paths."""
    case_id = data.get("case_id")
    zone = _first(data, scope.zone_paths)
    item = data.get(scope.item) if scope.item else None
    if isinstance(item, Mapping):
        case_id = item.get("case_id", case_id)
        zone = zone or _first(item, scope.zone_paths)
    return (str(case_id) if case_id is not None else None), (str(zone) if zone is not None else None)


def _participant_of(data: Mapping[str, Any]) -> str | None:
    """The equipe participant a task is addressed to: the `partecipante` item of a multi-instance."""
    item = data.get("partecipante")
    code = item.get("codice") if isinstance(item, Mapping) else None
    return str(code)[:64] if code else None


def _definitions(definition: Any) -> list[Any]:
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition]


def _correlations_for(definition: BaseMessage, correlations: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for prop in definition.correlation_properties:
        for key in prop.correlation_keys:
            value = (correlations.get(key) or {}).get(prop.name)
            if value is not None:
                result.setdefault(key, {})[prop.name] = value
    return result


def correlation_text(correlations: Mapping[str, Any]) -> str:
    """Canonical text of a correlation mapping: `prop=value;...` sorted, '' when empty."""
    pairs: set[str] = set()
    for key, value in correlations.items():
        if isinstance(value, Mapping):
            pairs.update(f"{prop}={val}" for prop, val in value.items())
        else:
            pairs.add(f"{key}={value}")
    return ";".join(sorted(pairs))


def subscriptions(workflow: BpmnWorkflow) -> set[Subscription]:
    """Messages the workflow waits for, with their correlation keys."""
    found: set[Subscription] = set()
    for task in workflow.event_manager.tasks.values():
        if not task.has_state(TaskState.WAITING):
            continue
        for definition in _definitions(task.task_spec.event_definition):
            if isinstance(definition, BaseMessage):
                corr = _correlations_for(definition, task.workflow.correlations)
                found.add(Subscription(definition.name, correlation_text(corr)))
    return found


def next_due(workflow: BpmnWorkflow) -> datetime | None:
    """Earliest due time among waiting timers (event-based gateways and cycles included)."""
    earliest: datetime | None = None
    for task in workflow.event_manager.tasks.values():
        if not task.has_state(TaskState.WAITING):
            continue
        if not any(isinstance(d, TimerEventDefinition) for d in _definitions(task.task_spec.event_definition)):
            continue
        due = _due_of(task.internal_data.get("event_value"))
        if due is not None and (earliest is None or due < earliest):
            earliest = due
    return earliest


def _due_of(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, dict):
        if value.get("cycles", 0) == 0:
            return None
        value = value.get("next")
    if not isinstance(value, str):
        return None
    try:
        if value.upper().startswith("P"):
            return None
        return TimerEventDefinition.get_datetime(value).astimezone(UTC)
    except (ValueError, TypeError):
        return None

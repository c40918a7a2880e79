"""State-only serialisation: the spec is never written, it comes from the pinned version's cache."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
)
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_FORMAT
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

FORMAT_KEY = "serializer_version"


class _IdText(dict[UUID, str]):
    """Text of task ids, each computed once per serialisation (a tree names every id several times)."""

    def __missing__(self, key: UUID) -> str:
        text = self[key] = str(key)
        return text


class _Ids(dict[str, UUID]):
    """Task ids read from text, each parsed once per restore (a tree names every id several times)."""

    def __missing__(self, key: str) -> UUID:
        value = self[key] = UUID(key)
        return value


class StateOnlyWorkflowConverter(BpmnWorkflowConverter):
    """Like Spiff's workflow converter, without the (large, immutable) specs.

    Tasks and subprocesses are written here rather than through the registry's per-object
    dispatch: the dictionaries are the ones Spiff's `TaskConverter` and
    `BpmnSubWorkflowConverter` produce (a test compares them), built in a third of the time.
    """

    def __init__(self, target_class: type, registry: Any) -> None:
        super().__init__(target_class, registry)
        self._task_typename = _typename_if_standard(registry, Task, TaskConverter)
        self._subprocess_typename = _typename_if_standard(registry, BpmnSubWorkflow, BpmnSubWorkflowConverter)
        self._task_restorable = _restored_by_standard(registry, self._task_typename, TaskConverter)

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        """Serialise tasks, data, subprocesses and pending events, not specs."""
        ids = _IdText()
        dct = self._state_dict(workflow, ids)
        dct["subprocesses"] = {ids[key]: self._subprocess_dict(sub, ids) for key, sub in workflow.subprocesses.items()}
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def _state_dict(self, workflow: Any, ids: _IdText) -> dict[str, Any]:
        """What `WorkflowConverter.to_dict` writes, for the top workflow and each subprocess."""
        registry = self.registry
        tasks = workflow.tasks
        last = workflow.last_task
        return {
            "data": registry.convert(registry.clean(workflow.data)),
            "correlations": workflow.correlations,
            "last_task": ids[last.id] if last is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
            "tasks": {ids[key]: self._task_dict(task, tasks, ids) for key, task in tasks.items()},
            "root": ids[workflow.task_tree.id],
        }

    def _subprocess_dict(self, subprocess: Any, ids: _IdText) -> dict[str, Any]:
        if type(subprocess) is not BpmnSubWorkflow or self._subprocess_typename is None:
            return self.registry.convert(subprocess)  # type: ignore[no-any-return]
        dct = self._state_dict(subprocess, ids)
        dct["parent_task_id"] = str(subprocess.parent_task_id)
        dct["spec"] = subprocess.spec.name
        dct["typename"] = self._subprocess_typename
        return dct

    def _task_dict(self, task: Any, tasks: Mapping[UUID, Any], ids: _IdText) -> dict[str, Any]:
        if type(task) is not Task or self._task_typename is None:
            return self.registry.convert(task)  # type: ignore[no-any-return]
        parent = tasks.get(task._parent)
        data = task.data
        if parent is None:
            delta: dict[str, Any] = {}
        else:
            # Spiff stores a child's data as its difference from the parent's.
            before = parent.data
            delta = {
                "updates": {key: data[key] for key in data if key not in before or data[key] != before[key]},
                "deletions": [key for key in before if key not in data],
            }
            data = {}
        internal = task.internal_data
        return {
            "id": ids[task.id],
            "parent": ids[task._parent] if parent is not None else None,
            "children": [ids[child] for child in task._children],
            "last_state_change": task.last_state_change,
            "state": task.state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": self.registry.clean(internal) if type(internal) is dict else self.registry.convert(internal),
            "data": data,
            "delta": delta,
            "typename": self._task_typename,
        }

    def restore(
        self, dct: dict[str, Any], spec: BpmnProcessSpec, subprocess_specs: Mapping[str, BpmnProcessSpec]
    ) -> BpmnWorkflow:
        """Rebuild a workflow around specs the caller already holds."""
        workflow = self.target_class(spec, dict(subprocess_specs), deserializing=True)
        if self._task_restorable:
            ids = _Ids()
            workflow.tasks = {ids[key]: self._task_from_dict(task, workflow, ids) for key, task in dct["tasks"].items()}
            workflow.task_tree = workflow.tasks.get(ids[dct["root"]])
        else:
            workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
            workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


    def _task_from_dict(self, dct: dict[str, Any], workflow: Any, ids: _Ids) -> Any:
        """The task Spiff's `TaskConverter.from_dict` restores (a test compares them), each id parsed once."""
        if dct.get("typename") != self._task_typename:
            return self.registry.restore(dct, workflow=workflow)
        restore = self.registry.restore
        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        task = Task(workflow, task_spec, state=dct["state"], id=ids[dct["id"]])
        parent_id = dct["parent"]
        task._parent = ids[parent_id] if parent_id is not None else None
        task._children = [ids[child] for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = restore(dct["internal_data"])
        if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            workflow.top_workflow.event_manager.add_task(task)
        delta = dct.get("delta")
        parent = workflow.tasks.get(task._parent)
        if delta and parent is not None:
            data = DeepMerge.merge({}, parent.data)
            data.update(restore(delta.get("updates", {})))
            for key in delta.get("deletions", {}):
                if key in data:
                    del data[key]
        else:
            data = restore(dct["data"])
        task.data = data
        return task


def _restored_by_standard(registry: Any, typename: str | None, converter: type) -> bool:
    """True when Spiff's own `converter` restores `typename` (else the registry's path is taken)."""
    from_dict = registry.convert_from_dict.get(typename) if typename is not None else None
    bound = from_dict.args[0] if isinstance(from_dict, partial) and from_dict.args else None
    owner = getattr(bound, "__self__", None)
    return type(owner) is converter and getattr(owner, "target_class", None) is Task


def _typename_if_standard(registry: Any, cls: type, converter: type) -> str | None:
    """The registry's name for `cls` when Spiff's own `converter` serialises it (else the slow path)."""
    typename = registry.typenames.get(cls)
    to_dict = registry.convert_to_dict.get(typename)
    bound = to_dict.args[1] if isinstance(to_dict, partial) and len(to_dict.args) > 1 else None
    owner = getattr(bound, "__self__", None)
    return typename if type(owner) is converter else None


class StateSerializer:
    """Turns a workflow's state into JSON text and back, given its specs."""

    def __init__(self) -> None:
        registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
        registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
        registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
        self._registry = registry
        self._converter = StateOnlyWorkflowConverter(BpmnWorkflow, registry)
        # One encoder for every call; the workflow converter never builds a cycle to check for.
        self._encoder = create_encoder(registry)(separators=(",", ":"), check_circular=False)

    @property
    def registry(self) -> Any:
        """Spiff's converter registry (needed by the diff helpers)."""
        return self._registry

    def dumps(self, workflow: BpmnWorkflow) -> str:
        """Serialise the workflow state to JSON text."""
        self._registry._encoder_mode = True
        try:
            dct = self._converter.to_dict(workflow)
        finally:
            self._registry._encoder_mode = False
        dct[FORMAT_KEY] = SPIFF_FORMAT
        return self._encoder.encode(dct)

    def loads(
        self, text: str | bytes, spec: BpmnProcessSpec, subprocess_specs: Mapping[str, BpmnProcessSpec]
    ) -> BpmnWorkflow:
        """Restore a workflow from JSON text around the given specs."""
        dct = json.loads(text)
        version = dct.pop(FORMAT_KEY, SPIFF_FORMAT)
        if version != SPIFF_FORMAT and version in MIGRATIONS:
            MIGRATIONS[version](dct)
        return self._converter.restore(dct, spec, subprocess_specs)

"""What SpiffWorkflow's own converters write for a workflow's state: the reference the stored state must equal."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter

from gol_workflow.engine.serialization import FORMAT_KEY, StateSerializer


def spiff_state(serializer: StateSerializer, workflow: BpmnWorkflow) -> dict[str, Any]:
    """The state as Spiff's generic converters write it (every task through the registry), parsed."""
    converter, registry = serializer._converter, serializer.registry
    registry._encoder_mode = True
    try:
        dct = WorkflowConverter.to_dict(converter, workflow)
        dct["subprocesses"] = converter.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = registry.convert(workflow.bpmn_events)
    finally:
        registry._encoder_mode = False
    return json.loads(serializer._encoder.encode(dct))  # type: ignore[no-any-return]


def assert_stored_as_spiff(serializer: StateSerializer, workflow: BpmnWorkflow, text: str) -> None:
    """The stored text holds exactly Spiff's dictionaries (plus the format version)."""
    stored = json.loads(text)
    assert stored.pop(FORMAT_KEY)
    assert stored == spiff_state(serializer, workflow)


def spiff_restored(serializer: StateSerializer, text: str, compiled: Any) -> BpmnWorkflow:
    """The workflow Spiff's generic converters restore from stored text (every task through the registry)."""
    converter = serializer._converter
    dct = json.loads(text)
    dct.pop(FORMAT_KEY)
    workflow = BpmnWorkflow(compiled.spec, dict(compiled.subprocess_specs), deserializing=True)
    workflow.tasks = converter.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
    workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
    converter.set_default_attributes(workflow, dct)
    converter.subprocesses_from_dict(dct["subprocesses"], workflow)
    workflow.bpmn_events = serializer.registry.restore(dct.pop("bpmn_events", []))
    return workflow


def _tasks_of(workflow: BpmnWorkflow) -> list[tuple[Any, ...]]:
    every = [workflow, *workflow.subprocesses.values()]
    return [(t.id, t._parent, t._children, t.state, t.task_spec.name, t.triggered, t.last_state_change,
             t.internal_data, t.data, t.thread_id, t.workflow.spec.name)
            for w in every for t in w.tasks.values()]


def assert_restored_as_spiff(restored: BpmnWorkflow, reference: BpmnWorkflow) -> None:
    """Two restored workflows hold the same tasks (ids, tree, states, data) and wait on the same events."""
    assert _tasks_of(restored) == _tasks_of(reference)
    assert restored.task_tree.id == reference.task_tree.id
    assert (restored.last_task and restored.last_task.id) == (reference.last_task and reference.last_task.id)
    assert restored.data == reference.data and restored.correlations == reference.correlations
    assert sorted(map(str, restored.event_manager.tasks)) == sorted(map(str, reference.event_manager.tasks))

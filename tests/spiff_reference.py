"""What SpiffWorkflow's own converters write for a workflow's state: the reference the stored state must equal."""

from __future__ import annotations

import json
from typing import Any

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

"""State-only serialisation: the spec is never written, it comes from the pinned version's cache."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_FORMAT
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

FORMAT_KEY = "serializer_version"


class StateOnlyWorkflowConverter(BpmnWorkflowConverter):
    """Like Spiff's workflow converter, without the (large, immutable) specs."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        """Serialise tasks, data, subprocesses and pending events, not specs."""
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def restore(
        self, dct: dict[str, Any], spec: BpmnProcessSpec, subprocess_specs: Mapping[str, BpmnProcessSpec]
    ) -> BpmnWorkflow:
        """Rebuild a workflow around specs the caller already holds."""
        workflow = self.target_class(spec, dict(subprocess_specs), deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _uuid(value: str) -> Any:
    from uuid import UUID

    return UUID(value)


class StateSerializer:
    """Turns a workflow's state into JSON text and back, given its specs."""

    def __init__(self) -> None:
        registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
        registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
        registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
        self._registry = registry
        self._converter = StateOnlyWorkflowConverter(BpmnWorkflow, registry)
        self._encoder = create_encoder(registry)

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
        return json.dumps(dct, cls=self._encoder, separators=(",", ":"))

    def loads(
        self, text: str | bytes, spec: BpmnProcessSpec, subprocess_specs: Mapping[str, BpmnProcessSpec]
    ) -> BpmnWorkflow:
        """Restore a workflow from JSON text around the given specs."""
        dct = json.loads(text)
        version = dct.pop(FORMAT_KEY, SPIFF_FORMAT)
        if version != SPIFF_FORMAT and version in MIGRATIONS:
            MIGRATIONS[version](dct)
        return self._converter.restore(dct, spec, subprocess_specs)

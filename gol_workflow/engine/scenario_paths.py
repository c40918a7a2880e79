"""What a workflow went through (for scenario tests and coverage), and the flow nodes and flows of a diagram."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.util.task import TaskState

from .parsing import BPMN_NS

# States of a task whose element the workflow has reached (done, open, waiting or failing there).
_REACHED = TaskState.COMPLETED | TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR

# BPMN elements that are not flow nodes although they sit in a process.
_NOT_NODES = frozenset({
    "sequenceFlow", "laneSet", "lane", "flowNodeRef", "dataObject", "dataObjectReference", "dataStoreReference",
    "textAnnotation", "association", "documentation", "extensionElements", "ioSpecification", "property",
    "dataInputAssociation", "dataOutputAssociation", "incoming", "outgoing", "multiInstanceLoopCharacteristics",
    "standardLoopCharacteristics", "group", "category",
})


@dataclass(frozen=True)
class Passage:
    """One task of a workflow at an element: where it came from and whether it is done."""

    task_id: str
    element_id: str
    element_name: str
    came_from: str | None  # the element of the nearest preceding task on the diagram
    completed: bool
    changed_at: float


def workflow_key(workflow: Any) -> str:
    """A stable id of one workflow (its root task), the same after every load."""
    return str(workflow.task_tree.id)


def passages(workflow: Any) -> list[Passage]:
    """Every task of the workflow (subprocesses included) at a diagram element it has reached."""
    found: list[Passage] = []
    for task in workflow.get_tasks_iterator():
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if bpmn_id is None or not task.has_state(_REACHED):
            continue
        found.append(Passage(str(task.id), bpmn_id, getattr(task.task_spec, "bpmn_name", None) or bpmn_id,
                             _previous_element(task), task.has_state(TaskState.COMPLETED), task.last_state_change))
    return found


def _previous_element(task: Any) -> str | None:
    parent = task.parent
    while parent is not None:
        bpmn_id = getattr(parent.task_spec, "bpmn_id", None)
        if bpmn_id is not None:
            return str(bpmn_id)
        parent = parent.parent
    return None


@dataclass(frozen=True)
class Flow:
    """A sequence flow of a diagram."""

    flow_id: str
    source: str
    target: str
    name: str


@dataclass
class ProcessDiagram:
    """The flow nodes (id -> name) and sequence flows of one executable process, subprocesses included."""

    process_id: str
    name: str
    nodes: dict[str, str] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)


def _local(node: etree._Element) -> str:
    tag = node.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def diagrams_of(xml: bytes) -> list[ProcessDiagram]:
    """The processes of a BPMN file, with every flow node and sequence flow they contain."""
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    found: list[ProcessDiagram] = []
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        diagram = ProcessDiagram(process.get("id", ""), process.get("name") or process.get("id", ""))
        for node in process.iter(etree.Element):
            tag = _local(node)
            if node is process or not node.tag.startswith(f"{{{BPMN_NS}}}") or node.get("id") is None:
                continue
            if tag == "sequenceFlow":
                diagram.flows.append(Flow(node.get("id", ""), node.get("sourceRef", ""), node.get("targetRef", ""),
                                          node.get("name") or ""))
            elif tag not in _NOT_NODES and node.getparent() is not None and _local(node.getparent()) in (
                    "process", "subProcess", "transaction", "adHocSubProcess"):
                diagram.nodes[node.get("id", "")] = (node.get("name") or node.get("id", "")).strip()
        found.append(diagram)
    return found


def process_of(workflow: Any) -> str:
    """The id of the process a workflow runs."""
    return str(workflow.spec.name)

"""From BPMN/DMN source files to executable specs, with safe XML parsing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from .camunda_assignment import Candidates, starters, task_candidates
from .camunda import CAMUNDA_NS, FORM_PROPERTY, normalise

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DUE_PROPERTY = "dueIn"


class XmlRejected(ValueError):
    """A file is not acceptable XML (malformed, or uses DTDs/entities)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class DoctypeRejected(XmlRejected):
    """The file declares a DOCTYPE (never loaded or expanded)."""


def _xml_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


def parse_xml(content: bytes) -> etree._Element:
    """Parse XML without entity expansion or network access; refuse DTDs."""
    try:
        root = etree.fromstring(content, parser=_xml_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        raise XmlRejected(f"malformed XML: {exc.msg}", line) from None
    except ValueError as exc:
        raise XmlRejected(f"unreadable XML: {exc}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise DoctypeRejected("DOCTYPE declarations are not allowed", 1)
    return root


def is_dmn(root: etree._Element) -> bool:
    """True when the document is a DMN model."""
    return etree.QName(root).localname == "definitions" and "DMN" in (etree.QName(root).namespace or "")


@dataclass(frozen=True)
class TaskMeta:
    """What the service needs to know about one user task or start event."""

    element_id: str
    name: str
    lane: str | None
    form: str | None
    due_in: str | None
    instructions: str | None
    candidates: Candidates = Candidates()  # camunda:candidateGroups / candidateUsers
    documentation: str | None = None


@dataclass(frozen=True)
class TaskScope:
    """Where a ready task's case and zone are in its data, as the process declares them."""

    zone_paths: tuple[str, ...] = ()  # dotted data paths of the zone, the first holding a value wins
    item: str | None = None  # a multi-instance item about another case: its own `case_id` and zone


@dataclass
class CompiledProcess:
    """An executable process version: specs plus the metadata the service reads."""

    process_id: str
    name: str
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    tasks: dict[str, TaskMeta] = field(default_factory=dict)  # keyed by Spiff task spec name
    start_form: str | None = None
    caught_messages: frozenset[str] = frozenset()  # names of the messages its catching events wait for
    starters: Candidates = Candidates()  # camunda:candidateStarterGroups / candidateStarterUsers
    task_scope: TaskScope = TaskScope()  # set from the process's case declaration when it has one

    def meta_for(self, spec_name: str) -> TaskMeta | None:
        """Metadata of a user task spec, if any."""
        return self.tasks.get(spec_name)


def new_parser(validate_xsd: bool = True) -> SpiffBpmnParser:
    """A Spiff parser with XSD validation switched on."""
    return SpiffBpmnParser(validator=VALIDATOR if validate_xsd else None)


def load_sources(parser: SpiffBpmnParser, files: Mapping[str, bytes]) -> None:
    """Add DMN then BPMN documents to a parser (DMN first so references resolve)."""
    roots = {name: normalise(parse_xml(content)) for name, content in sorted(files.items())}
    for name, root in roots.items():
        if is_dmn(root):
            parser.add_dmn_xml(root, filename=name)
    for name, root in roots.items():
        if not is_dmn(root):
            parser.add_bpmn_xml(root, filename=name)


def _candidates(parser: SpiffBpmnParser) -> dict[str, Candidates]:
    found: dict[str, Candidates] = {}
    for process_parser in parser.process_parsers.values():
        for node in process_parser.node.iter(full_tag("userTask")):
            if node.get("id"):
                found[node.get("id")] = task_candidates(node)
    return found


def _meta(task_spec: Any, candidates: Mapping[str, Candidates] | None = None) -> TaskMeta:
    extensions = getattr(task_spec, "extensions", None) or {}
    properties = extensions.get("properties") or {}
    element_id = task_spec.bpmn_id
    return TaskMeta(
        element_id=element_id,
        name=task_spec.bpmn_name or element_id,
        lane=getattr(task_spec, "lane", None),
        form=properties.get(FORM_PROPERTY),
        due_in=properties.get(DUE_PROPERTY),
        instructions=extensions.get("instructionsForEndUser"),
        candidates=(candidates or {}).get(element_id, Candidates()),
        documentation=getattr(task_spec, "documentation", None) or None,
    )


def compile_process(parser: SpiffBpmnParser, process_id: str) -> CompiledProcess:
    """Build the executable spec of one process from a loaded parser."""
    spec = parser.get_spec(process_id)
    subprocess_specs = parser.get_subprocess_specs(process_id)
    candidates = _candidates(parser)
    process_parser = parser.get_process_parser(process_id)
    compiled = CompiledProcess(
        process_id=process_id,
        name=spec.description or process_id,
        spec=spec,
        subprocess_specs=subprocess_specs,
        starters=starters(process_parser.node) if process_parser is not None else Candidates(),
    )
    for process_spec in [spec, *subprocess_specs.values()]:
        if process_spec is None:
            continue
        for task_spec in process_spec.task_specs.values():
            if getattr(task_spec, "bpmn_id", None) is None:
                continue
            if isinstance(task_spec, CatchingEvent):
                compiled.caught_messages |= _message_names(task_spec.event_definition)
            if getattr(task_spec, "manual", False):
                compiled.tasks[task_spec.name] = _meta(task_spec, candidates)
            elif isinstance(task_spec, StartEvent) and process_spec is spec:
                meta = _meta(task_spec)
                compiled.start_form = compiled.start_form or meta.form
    return compiled


def _message_names(definition: Any) -> frozenset[str]:
    definitions = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
    return frozenset(d.name for d in definitions if isinstance(d, MessageEventDefinition) and d.name)


def compile_from_sources(files: Mapping[str, bytes], process_id: str) -> CompiledProcess:
    """Parse a version's files and compile its process (used when loading a pinned version)."""
    parser = new_parser(validate_xsd=False)
    load_sources(parser, files)
    return compile_process(parser, process_id)


def process_dependencies(parser: SpiffBpmnParser, process_id: str) -> set[str]:
    """File names a process needs: its own file, called processes' files and DMN files."""
    names: set[str] = set()
    compiled_ids = [process_id, *parser.get_subprocess_specs(process_id).keys()]
    business_rule_parser, _ = parser._get_parser_class(full_tag("businessRuleTask"))
    for pid in compiled_ids:
        process_parser = parser.get_process_parser(pid)
        if process_parser is None:
            continue
        if process_parser.filename:
            names.add(process_parser.filename)
        for node in process_parser.node.iter(full_tag("businessRuleTask")):
            ref = business_rule_parser.get_decision_ref(node)
            dmn = parser.dmn_parsers.get(ref)
            if dmn is not None and dmn.filename:
                names.add(dmn.filename)
    return names

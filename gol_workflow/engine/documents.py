"""Parsed process files and finding where an element is written in them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType

from lxml import etree

from .parsing import BPMN_NS, is_dmn

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"

# Elements that carry an expression or a definition: a problem in them belongs to their owner.
_NOT_OWNERS = frozenset(
    {
        "timerEventDefinition",
        "messageEventDefinition",
        "conditionalEventDefinition",
        "multiInstanceLoopCharacteristics",
        "standardLoopCharacteristics",
        "conditionExpression",
        "condition",
        "timeDate",
        "timeDuration",
        "timeCycle",
        "loopCardinality",
        "completionCondition",
        "formalExpression",
        "messagePath",
        "correlationPropertyRetrievalExpression",
        "extensionElements",
        "inputExpression",
        "text",
        "script",
    }
)
_FRAME_NAMES = (
    "node", "element", "ruleElement", "sequence_flow_node", "event", "data_store", "param_node", "prop_node",
)
_QUOTED = re.compile(r"""['"“«]([^'"”»\n]{1,200})['"”»]""")
_NAMED = re.compile(r"\b(?:with name|named|with id|identifier)\s+['\"]?([^\s'\",.]+(?:\s[^\s'\",.]+)*?)['\"]?\s+(?:has|is|was)\b")


def local_name(node: etree._Element) -> str:
    """The tag without its namespace ('' for comments and processing instructions)."""
    tag = node.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def is_model_element(node: etree._Element) -> bool:
    """True for elements of the BPMN or DMN model (not extensions, not diagram shapes)."""
    tag = node.tag
    if not isinstance(tag, str) or not tag.startswith("{"):
        return False
    namespace = tag[1:].split("}", 1)[0]
    return namespace == BPMN_NS or ("DMN" in namespace and "DMNDI" not in namespace) or "/dmn" in namespace


@dataclass
class Document:
    """One well-formed BPMN or DMN file, with an index of its elements."""

    name: str
    root: etree._Element
    by_id: dict[str, etree._Element] = field(default_factory=dict)
    by_name: dict[str, etree._Element] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, root: etree._Element) -> "Document":
        """Index a parsed file: ids and names of its model elements."""
        doc = cls(name, root)
        for node in root.iter(etree.Element):
            node_id = node.get("id")
            if node_id is not None:
                doc.by_id.setdefault(node_id, node)
            node_name = node.get("name")
            if node_name and is_model_element(node):
                doc.by_name.setdefault(node_name.strip(), node)
        return doc

    @property
    def is_dmn(self) -> bool:
        """True for a DMN model."""
        return is_dmn(self.root)

    @property
    def is_bpmn(self) -> bool:
        """True for a BPMN 2.0 model."""
        return self.root.tag == f"{{{BPMN_NS}}}definitions"

    def iter_bpmn(self, tag: str) -> Iterator[etree._Element]:
        """Every BPMN element with this local name."""
        return self.root.iter(f"{{{BPMN_NS}}}{tag}")

    def iter_spiff(self, tag: str) -> Iterator[etree._Element]:
        """Every SpiffWorkflow extension element with this local name."""
        return self.root.iter(f"{{{SPIFF_NS}}}{tag}")

    def line_of(self, element_id: str | None) -> int | None:
        """The line where the element with this id starts."""
        node = self.by_id.get(element_id) if element_id else None
        return node.sourceline if node is not None else None

    def find(self, element_id: str | None = None, name: str | None = None) -> etree._Element | None:
        """An element by id, else by name."""
        if element_id and element_id in self.by_id:
            return self.by_id[element_id]
        if name and name.strip() in self.by_name:
            return self.by_name[name.strip()]
        return None

    def find_in_message(self, message: str) -> etree._Element | None:
        """The element a library message talks about, from the ids or names it quotes."""
        candidates = _QUOTED.findall(message) + _NAMED.findall(message)
        for token in candidates:
            node = self.find(token, token)
            if node is not None:
                return node
        for token in candidates:
            node = self._referencing(token)
            if node is not None:
                return node
        return None

    def _referencing(self, value: str) -> etree._Element | None:
        for node in self.root.iter(etree.Element):
            if is_model_element(node) and value in node.attrib.values():
                return node
        return None


def _can_own(node: etree._Element) -> bool:
    return is_model_element(node) or (isinstance(node.tag, str) and ("/DI}" in node.tag or "DMNDI" in node.tag))


def owner(node: etree._Element) -> etree._Element:
    """The model element a nested expression or definition belongs to (a task, event, flow, DMN cell)."""
    current: etree._Element | None = node
    while current is not None:
        if current.get("id") and _can_own(current) and local_name(current) not in _NOT_OWNERS:
            return current
        current = current.getparent()
    return node


def owner_id(node: etree._Element) -> str | None:
    """The id of the element a nested node belongs to."""
    return owner(node).get("id")


def _element_in(local_vars: dict[str, object]) -> etree._Element | None:
    preferred = [local_vars.get(name) for name in _FRAME_NAMES]
    for value in [*preferred, getattr(local_vars.get("self"), "node", None), *local_vars.values()]:
        if isinstance(value, etree._Element) and value.getparent() is not None:
            return value
    return None


def element_from_traceback(tb: TracebackType | None) -> etree._Element | None:
    """The innermost XML element (not the document root) a crashing library function was working on."""
    found: etree._Element | None = None
    while tb is not None:
        here = _element_in(tb.tb_frame.f_locals)
        found = here if here is not None else found
        tb = tb.tb_next
    return found


def text_line(node: etree._Element, text: str, relative_line: int) -> int:
    """The file line of line `relative_line` (1-based) of a node's text."""
    start = node.sourceline or 0
    return start + max(0, min(relative_line, text.count("\n") + 1) - 1)

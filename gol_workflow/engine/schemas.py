"""XML Schema (XSD) validation of BPMN and DMN files, reporting every error with its line."""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from ..domain.model import Problem
from .documents import Document, owner_id

MAX_SCHEMA_ERRORS = 20
DMN_13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"

_PREFIXES = {
    "http://www.omg.org/spec/BPMN/20100524/MODEL": "bpmn",
    "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi",
    "http://www.omg.org/spec/DD/20100524/DC": "dc",
    "http://www.omg.org/spec/DD/20100524/DI": "di",
    "http://spiffworkflow.org/bpmn/schema/1.0/core": "spiffworkflow",
    "http://camunda.org/schema/1.0/bpmn": "camunda",
}
_QNAME = re.compile(r"\{([^}]*)\}")
_lock = threading.Lock()  # an XMLSchema keeps its error log on itself


class SchemaUnavailable(Exception):
    """The XSD for this kind of file cannot be loaded."""


@lru_cache(maxsize=8)
def _dmn_validator(path: str) -> BpmnValidator | None:
    try:
        return BpmnValidator(path)
    except etree.XMLSchemaParseError:
        return None  # SpiffWorkflow 3.2 ships a broken DMN 1.2 schema (its DI part is the wrong file)


def _short(message: str) -> str:
    def prefix(match: re.Match[str]) -> str:
        namespace = match.group(1)
        if namespace in _PREFIXES:
            return _PREFIXES[namespace] + ":"
        return "dmn:" if "DMN" in namespace else ""

    return " ".join(_QNAME.sub(prefix, message).split())


def _element_at(doc: Document, path: str | None, line: int) -> str | None:
    node = None
    if path:
        try:
            found = doc.root.xpath(path)
        except etree.XPathError:
            found = []
        node = found[0] if found and isinstance(found[0], etree._Element) else None
    if node is None:
        node = next((n for n in doc.root.iter(etree.Element) if n.sourceline == line), None)
    return owner_id(node) if node is not None else None


def _schema_for(doc: Document) -> etree.XMLSchema | None:
    if doc.is_bpmn:
        VALIDATOR.preprocess(doc.root)
        return VALIDATOR.validator
    namespace = etree.QName(doc.root).namespace or ""
    path = DMN_SCHEMAS.get(namespace)
    if path is None:
        return None
    validator = _dmn_validator(path)
    if validator is None:
        raise SchemaUnavailable(namespace)
    return validator.validator


def schema_problems(doc: Document) -> list[Problem]:
    """Every XSD error of a BPMN or DMN file (DMN only for the versions SpiffWorkflow knows)."""
    if not (doc.is_bpmn or doc.is_dmn):
        return [_not_a_model(doc)]
    with _lock:
        try:
            schema = _schema_for(doc)
        except SchemaUnavailable:
            return [_unchecked_dmn(doc)]
        if schema is None:
            return [_unknown_dmn(doc)]
        if schema.validate(doc.root):
            return []
        entries = [(e.line, e.path, e.message) for e in schema.error_log]
    problems = [
        Problem(doc.name, line or None, _element_at(doc, path, line), f"schema: {_short(message)}")
        for line, path, message in entries[:MAX_SCHEMA_ERRORS]
    ]
    if len(entries) > MAX_SCHEMA_ERRORS:
        last = problems[-1]
        more = len(entries) - MAX_SCHEMA_ERRORS
        problems.append(Problem(doc.name, last.line, last.element, f"schema: {more} more error(s) not shown"))
    return problems


def _not_a_model(doc: Document) -> Problem:
    tag = _short(str(doc.root.tag))
    return Problem(
        doc.name,
        doc.root.sourceline,
        doc.root.get("id"),
        f"not a BPMN 2.0 or DMN model: the root element is <{tag}>, expected bpmn:definitions or dmn:definitions",
    )


def _unchecked_dmn(doc: Document) -> Problem:
    namespace = etree.QName(doc.root).namespace
    message = f"DMN files in {namespace} cannot be checked against their schema: save the file as DMN 1.3 ({DMN_13})"
    return Problem(doc.name, doc.root.sourceline, doc.root.get("id"), message)


def _unknown_dmn(doc: Document) -> Problem:
    namespace = etree.QName(doc.root).namespace
    return Problem(
        doc.name,
        doc.root.sourceline,
        doc.root.get("id"),
        f"unsupported DMN namespace {namespace}: write DMN 1.3 ({DMN_13}) as Camunda Modeler does",
    )

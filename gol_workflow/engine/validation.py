"""Validation of process files: XML, XSD, SpiffWorkflow semantics and the project's own rules.

Every finding is a `Problem` with file, line, element id and message; nothing raises.
Files given together are validated together, so they may reference each other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from ..domain.model import Problem
from .call_cycles import call_cycle_problems
from .camunda import camunda_problems, normalise
from .code_rules import bpmn_code_problems, dmn_code_problems
from .documents import Document, local_name
from .parsing import DoctypeRejected, XmlRejected, parse_xml
from .rules import RuleContext, check_project_rules, dmn_structure_problems
from .schemas import schema_problems
from .semantics import load_semantics
from .timer_rules import timer_problems


@dataclass
class ValidationReport:
    """Problems found, and the loaded parser and buildable processes."""

    problems: list[Problem] = field(default_factory=list)
    parser: SpiffBpmnParser | None = None
    process_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


# SpiffWorkflow findings that our rules report more precisely (and for every element, not just the first).
_COVERED = (
    "without condition",
    "must have an operator",
    "Time Specification",
    "No DMN Diagram available",
    "was not found",
    "Duplicate process ID",
)
_POSITION = re.compile(r", line \d+, column (\d+)$")


def _first_line(content: bytes, pattern: bytes) -> int:
    index = content.find(pattern)
    return content[:index].count(b"\n") + 1 if index >= 0 else 1


def _doctype_problem(name: str, content: bytes) -> Problem:
    if b"<!ENTITY" in content:
        line = _first_line(content, b"<!ENTITY")
        message = "entity declarations (<!ENTITY>) are not allowed: entities are never expanded or fetched"
    else:
        line = _first_line(content, b"<!DOCTYPE")
        message = "DOCTYPE declarations (DTDs) are not allowed: nothing is loaded from a DTD"
    return Problem(name, line, None, message)


def _declares_doctype(content: bytes) -> bool:
    """True when the prolog (before the root element) holds a DOCTYPE: refused before any parsing."""
    rest = content.lstrip(b"\xef\xbb\xbf \t\r\n")
    while rest.startswith((b"<?", b"<!--")):
        closing = b"?>" if rest.startswith(b"<?") else b"-->"
        end = rest.find(closing)
        if end < 0:
            return False
        rest = rest[end + len(closing) :].lstrip(b" \t\r\n")
    return rest.startswith(b"<!DOCTYPE")


def _read(name: str, content: bytes) -> Document | Problem:
    if _declares_doctype(content):
        return _doctype_problem(name, content)
    try:
        root = parse_xml(content)
    except DoctypeRejected:
        return _doctype_problem(name, content)
    except XmlRejected as exc:
        return Problem(name, exc.line or 1, None, _POSITION.sub(r" (column \1)", str(exc)))
    except Exception as exc:  # noqa: BLE001 - never a traceback, whatever the bytes
        return Problem(name, 1, None, f"unreadable XML: {exc.__class__.__name__}: {exc}")
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        return Problem(name, line, None, "the file is not UTF-8 encoded: save it as UTF-8")
    return Document.of(name, normalise(root))


def _definitions(doc: Document) -> Iterable[tuple[str, str]]:
    """(kind, id) of what must be unique across files: process ids and decision ids."""
    if doc.is_bpmn:
        for process in doc.iter_bpmn("process"):
            if process.get("id"):
                yield "process", process.get("id")
    elif doc.is_dmn:
        for node in doc.root:
            if local_name(node) == "decision" and node.get("id"):
                yield "decision", node.get("id")


def _duplicates(docs: list[Document]) -> tuple[list[Problem], set[str]]:
    """Process or decision ids defined in two files: reported in both; the later file is not loaded."""
    problems: list[Problem] = []
    skip: set[str] = set()
    first: dict[tuple[str, str], Document] = {}
    for doc in docs:
        for kind, element_id in _definitions(doc):
            other = first.setdefault((kind, element_id), doc)
            if other is doc:
                continue
            skip.add(doc.name)
            here, there = doc.line_of(element_id), other.line_of(element_id)
            problems.append(Problem(doc.name, here, element_id, f"{kind} id '{element_id}' is also defined in {other.name}:{there}"))
            problems.append(Problem(other.name, there, element_id, f"{kind} id '{element_id}' is also defined in {doc.name}:{here}"))
    return problems, skip


def _guarded(doc: Document, check: Callable[[Document], list[Problem]], name: str) -> list[Problem]:
    try:
        return check(doc)
    except Exception as exc:  # noqa: BLE001 - a check must never turn into a traceback
        message = f"could not be checked ({name}: {exc.__class__.__name__}: {exc})"
        return [Problem(doc.name, doc.root.sourceline, None, message)]


def _rule_problems(docs: list[Document], ctx: RuleContext) -> list[Problem]:
    ctx = ctx.knowing(docs)
    problems: list[Problem] = []
    for doc in docs:
        problems += _guarded(doc, lambda d: check_project_rules(d, ctx), "project rules")
        if doc.is_bpmn:
            problems += _guarded(doc, timer_problems, "timers") + _guarded(doc, bpmn_code_problems, "code")
            problems += _guarded(doc, lambda d: camunda_problems(d.name, d.root), "Camunda extensions")
        elif doc.is_dmn:
            problems += _guarded(doc, dmn_code_problems, "DMN cells")
    return problems


def _merge(found: list[Problem], library: list[Problem]) -> list[Problem]:
    """All findings; the library's are dropped where one of our rules already says the same of that element."""
    ours = {(p.file, p.element) for p in found if p.element}
    kept = [p for p in library if (p.file, p.element) not in ours or not any(c in p.message for c in _COVERED)]
    unique = dict.fromkeys(found + kept)
    return sorted(unique, key=lambda p: (p.file, p.line or 0, _natural(p.element), p.message))


def _natural(text: str | None) -> tuple[object, ...]:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text or ""))


def validate_sources(files: Mapping[str, bytes], ctx: RuleContext | None = None) -> ValidationReport:
    """Validate BPMN/DMN documents together (they may reference each other)."""
    ctx = ctx or RuleContext()
    problems: list[Problem] = []
    docs: list[Document] = []
    for name, content in sorted(files.items()):
        read = _read(name, content)
        if isinstance(read, Problem):
            problems.append(read)
        else:
            docs.append(read)
    schema_failed: set[str] = set()
    for doc in docs:
        found = _guarded(doc, schema_problems, "schema")
        if found:
            schema_failed.add(doc.name)
            problems.extend(found)
    models = [d for d in docs if d.is_bpmn or d.is_dmn]
    duplicates, skip = _duplicates(models)
    for doc in models:
        unloadable = _guarded(doc, dmn_structure_problems, "DMN structure") if doc.is_dmn else []
        if unloadable:
            skip.add(doc.name)
            problems.extend(unloadable)
    semantics = load_semantics(d for d in models if d.name not in schema_failed | skip)
    found = duplicates + (_rule_problems(models, ctx) if models else []) + call_cycle_problems(models)
    problems = _merge(problems + found, semantics.problems)
    return ValidationReport(problems, semantics.parser, semantics.process_ids)

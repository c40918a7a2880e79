"""SpiffWorkflow's own checks: load the files together and build every executable process.

The library reports a problem by raising, without a line, and sometimes crashes
(KeyError, IndexError, AttributeError, XPathEvalError...) on constructs it does not
support. Each failure here becomes a `Problem` placed on the element it concerns.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from ..domain.model import Problem
from .documents import Document, element_from_traceback, owner
from .parsing import new_parser


@dataclass
class Semantics:
    """The loaded parser, the processes it could build, and what went wrong."""

    parser: SpiffBpmnParser
    process_ids: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


_ELEMENT_REPR = re.compile(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-f]+>")
_UNSUPPORTED = re.compile(r"NotImplementedError\('([^'%]*)")
_HINTS = {
    "Multiple outgoing flows are not supported": " (split the flows with a gateway)",
    "has no implementation": " (data stores are not supported: keep the data in the case)",
    "Expected a Message node": " (its messageRef names no bpmn:message)",
    "Expected a Signal node": " (its signalRef names no bpmn:signal)",
    "Expected an error node": " (its errorRef names no bpmn:error)",
}
_WRAPPED = re.compile(r"^(\w+(?:Error|Exception))\((.*)\)\.?$")
MAX_MESSAGE = 300


def _intended_message(exc: BaseException) -> str | None:
    """SpiffWorkflow sometimes fails while raising its own error: recover the message it meant."""
    context = exc.__context__
    if not isinstance(context, TypeError) or "raise_validation_exception" not in str(context):
        return None
    for frame in reversed(traceback.extract_tb(context.__traceback__)):
        found = re.search(r"raise_validation_exception\(\s*['\"]([^'\"]+)", frame.line or "")
        if found:
            return found.group(1)
    return None


def _message(exc: BaseException) -> str:
    first = exc.args[0] if exc.args else ""
    text = _intended_message(exc) or (repr(first) if isinstance(exc, KeyError) else str(first))
    notes = getattr(exc, "notes", None) or getattr(exc, "__notes__", None) or []
    text = " ".join([text.rstrip(". ") + "." if notes else text, *map(str, notes)]).strip()
    text = _ELEMENT_REPR.sub(r"bpmn:\1", " ".join(text.split())) or exc.__class__.__name__
    wrapped = _WRAPPED.match(text)
    if wrapped and wrapped.group(1) != "NotImplementedError":
        text = f"unsupported or malformed construct ({wrapped.group(1)}: {wrapped.group(2)})"
    unsupported = _UNSUPPORTED.match(text)
    if unsupported:
        text = unsupported.group(1).strip(": ")
    text += "".join(hint for key, hint in _HINTS.items() if key in text)
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1] + "…"
    if isinstance(exc, SpiffWorkflowException):
        return text
    if isinstance(exc, RecursionError):
        return "the model nests or references itself too deeply to be loaded (RecursionError)"
    return f"unsupported or malformed construct ({exc.__class__.__name__}: {text})"


def _node_for(exc: BaseException, doc: Document | None) -> etree._Element | None:
    if doc is None:
        return None
    if isinstance(exc, ValidationException):
        node = doc.find(getattr(exc, "id", None), getattr(exc, "name", None))
        if node is not None:
            return node
    node = element_from_traceback(exc.__traceback__)
    if node is not None and node.getroottree().getroot() is doc.root:
        return node
    return doc.find_in_message(str(exc.args[0]) if exc.args else "")


def problem_from(exc: BaseException, default: str, docs: Mapping[str, Document]) -> Problem:
    """A library exception as a problem on the element it concerns (file from the exception when known)."""
    file_name = getattr(exc, "file_name", None)
    if not file_name or file_name not in docs:
        file_name = default
    doc = docs.get(file_name)
    node = _node_for(exc, doc)
    line = getattr(exc, "line_number", None)
    if not isinstance(line, int) or line <= 0:
        line = node.sourceline if node is not None else (doc.root.sourceline if doc is not None else None)
    element = getattr(exc, "id", None) or (owner(node).get("id") if node is not None else None)
    return Problem(file_name, line, element or None, _message(exc))


def _add_all(parser: SpiffBpmnParser, docs: Sequence[Document], result: Semantics, by_name: Mapping[str, Document]) -> set[str]:
    failed: set[str] = set()
    for dmn_stage in (True, False):
        for doc in docs:
            if doc.is_dmn != dmn_stage:
                continue
            try:
                if dmn_stage:
                    parser.add_dmn_xml(doc.root, filename=doc.name)
                else:
                    parser.add_bpmn_xml(doc.root, filename=doc.name)
            except Exception as exc:  # noqa: BLE001 - every library failure becomes a problem
                failed.add(doc.name)
                result.problems.append(problem_from(exc, doc.name, by_name))
    return failed


def _parse_decisions(parser: SpiffBpmnParser, result: Semantics, by_name: Mapping[str, Document]) -> None:
    for dmn_parser in list(parser.dmn_parsers.values()):
        name = dmn_parser.filename or "?"
        try:
            dmn_parser.parse()
        except Exception as exc:  # noqa: BLE001
            result.problems.append(problem_from(exc, name, by_name))


def _build_processes(parser: SpiffBpmnParser, failed: set[str], result: Semantics, by_name: Mapping[str, Document]) -> None:
    for process_id in parser.get_process_ids():
        name = getattr(parser.get_process_parser(process_id), "filename", None) or "?"
        if name in failed:
            continue
        try:
            parser.get_spec(process_id)
            parser.get_subprocess_specs(process_id)
        except Exception as exc:  # noqa: BLE001
            result.problems.append(problem_from(exc, name, by_name))
            continue
        result.process_ids.append(process_id)


def load_semantics(docs: Iterable[Document]) -> Semantics:
    """Load documents into one parser (DMN first) and build every executable process."""
    ordered = sorted(docs, key=lambda d: d.name)
    by_name = {doc.name: doc for doc in ordered}
    result = Semantics(new_parser(validate_xsd=False))
    try:
        failed = _add_all(result.parser, ordered, result, by_name)
        _parse_decisions(result.parser, result, by_name)
        _build_processes(result.parser, failed, result, by_name)
    except Exception as exc:  # noqa: BLE001 - a crash outside any one element
        result.problems.append(problem_from(exc, ordered[0].name if ordered else "?", by_name))
    return result

"""Validation of process files: XML, XSD, SpiffWorkflow semantics and the project's own rules.

Every finding is a `Problem` with file, line, element id and message; nothing raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from ..domain.model import Problem
from .parsing import XmlRejected, is_dmn, new_parser, parse_xml


@dataclass
class ValidationReport:
    """Problems found, and the loaded parser when the files could be parsed."""

    problems: list[Problem] = field(default_factory=list)
    parser: SpiffBpmnParser | None = None
    process_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


def _line_of(root: etree._Element | None, element_id: str | None) -> int | None:
    if root is None or not element_id:
        return None
    for node in root.iter():
        if isinstance(node.tag, str) and node.get("id") == element_id:
            return node.sourceline
    return None


def _message(exc: BaseException) -> str:
    text = str(exc.args[0]) if exc.args else ""
    text = text or exc.__class__.__name__
    if not isinstance(exc, ValidationException):
        text = f"{exc.__class__.__name__}: {text}"
    return " ".join(text.split())


def validate_sources(files: Mapping[str, bytes]) -> ValidationReport:
    """Validate BPMN/DMN documents together (they may reference each other)."""
    report = ValidationReport()
    roots: dict[str, etree._Element] = {}
    for name, content in sorted(files.items()):
        try:
            roots[name] = parse_xml(content)
        except XmlRejected as exc:
            report.problems.append(Problem(name, exc.line, None, str(exc)))
    parser = new_parser()
    for stage in ("dmn", "bpmn"):
        for name, root in roots.items():
            if is_dmn(root) != (stage == "dmn"):
                continue
            try:
                if stage == "dmn":
                    parser.add_dmn_xml(root, filename=name)
                else:
                    parser.add_bpmn_xml(root, filename=name)
            except Exception as exc:  # noqa: BLE001 - library crashes become problems
                report.problems.append(_problem(exc, name, root))
    if report.problems:
        return report
    try:
        process_ids = parser.get_process_ids()
    except Exception as exc:  # noqa: BLE001
        report.problems.append(_problem(exc, next(iter(roots), "?"), None))
        return report
    for process_id in process_ids:
        process_parser = parser.get_process_parser(process_id)
        name = getattr(process_parser, "filename", None) or "?"
        try:
            parser.get_spec(process_id)
            parser.get_subprocess_specs(process_id)
        except Exception as exc:  # noqa: BLE001
            report.problems.append(_problem(exc, name, roots.get(name)))
    report.parser = parser
    report.process_ids = process_ids
    return report


def _problem(exc: BaseException, default_file: str, root: etree._Element | None) -> Problem:
    file_name = getattr(exc, "file_name", None) or default_file
    element = getattr(exc, "id", None) or None
    line: Any = getattr(exc, "line_number", None)
    if not isinstance(line, int) or line <= 0:
        line = _line_of(root, element)
    return Problem(file_name, line, element, _message(exc))

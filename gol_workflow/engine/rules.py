"""The project's own rules on top of XSD and SpiffWorkflow checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from ..domain.model import Problem
from .parsing import CAMUNDA_NS, FORM_PROPERTY

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def _form_name(node: Any) -> str | None:
    for prop in node.iter(f"{{{SPIFF_NS}}}property"):
        if prop.get("name") == FORM_PROPERTY:
            return prop.get("value")
    key = node.get(f"{{{CAMUNDA_NS}}}formKey")
    if key:
        key = key.split(":")[-1]
        return key if key.endswith(".json") else f"{key}.schema.json"
    return None


def _lanes(root: Any) -> dict[str, str]:
    return {
        ref.text.strip(): ref.getparent().get("name") or ref.getparent().get("id")
        for ref in root.iter(full_tag("flowNodeRef"))
        if ref.text
    }


def check_project_rules(
    parser: SpiffBpmnParser,
    sources: Mapping[str, bytes],
    forms: Mapping[str, Any] | None,
) -> list[Problem]:
    """User tasks have a lane and a form that exists."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for process_parser in parser.process_parsers.values():
        file_name = process_parser.filename or "?"
        lanes = _lanes(process_parser.node.getroottree().getroot())
        for node in process_parser.node.iter(full_tag("userTask")):
            element = node.get("id")
            if (file_name, element) in seen:
                continue
            seen.add((file_name, element))
            if not lanes.get(element):
                problems.append(Problem(file_name, node.sourceline, element, "user task is not in a lane"))
            form = _form_name(node)
            if not form:
                problems.append(
                    Problem(file_name, node.sourceline, element, f"user task names no form ({FORM_PROPERTY})")
                )
            elif forms is not None and form not in forms:
                problems.append(Problem(file_name, node.sourceline, element, f"form {form} does not exist"))
    return problems

"""Files saved by Camunda Modeler (Camunda 7) read as the service runs them.

`normalise` rewrites a parsed tree, in place, into what SpiffWorkflow runs: a form key
becomes the form property, `camunda:decisionRef` the called decision, `camunda:property`
a task property, and a timer written as plain ISO 8601 text a quoted value. The stored
file is never changed: the same rewriting happens each time a version is loaded.
`camunda_problems` names what has no counterpart here, each with its Python equivalent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from lxml import etree

from ..domain.model import Problem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
FORM_PROPERTY = "formJsonSchemaFilename"
FORM_SUFFIX = ".schema.json"

_B, _C, _S = f"{{{BPMN_NS}}}", f"{{{CAMUNDA_NS}}}", f"{{{SPIFF_NS}}}"
_TIMER_KINDS = ("timeDate", "timeDuration", "timeCycle")
_PLAIN_ISO = re.compile(r"^(R\d*/\S+|P(\d|T\d)\S*|\d{4}-\d{2}-\d{2}(T\S+)?)$", re.IGNORECASE)
_JUEL = re.compile(r"^\s*[$#]\{(?P<body>.*)\}\s*$", re.DOTALL)
_DELEGATES = ("class", "delegateExpression", "expression")


def _local(node: etree._Element) -> str:
    return node.tag.rsplit("}", 1)[-1] if isinstance(node.tag, str) else ""


def form_from_key(key: str | None) -> str | None:
    """The form file a camunda:formKey names, or None when it names no JSON Schema form.

    Accepted: "x", "x.schema.json", and any Camunda prefix or folder before it,
    e.g. "embedded:app:forms/x.schema.json" -> "x.schema.json".
    """
    if not key or not key.strip():
        return None
    name = key.strip().rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    if name.endswith(FORM_SUFFIX):
        return name
    if "." in name or not name:
        return None  # an HTML page, a Camunda Form (.form) or a deployment resource
    return f"{name}{FORM_SUFFIX}"


def juel_to_python(text: str) -> str | None:
    """A Python rendering of a simple JUEL expression (`${a && !b}` -> `a and not b`), None if not JUEL."""
    found = _JUEL.match(text or "")
    if found is None:
        return None
    body = found.group("body").strip()
    replacements = (
        (r"&&", " and "), (r"\|\|", " or "), (r"!(?!=)", " not "), (r"\bnot\s+empty\s+(\w[\w.]*)", r"\1"),
        (r"\bempty\s+(\w[\w.]*)", r"not \1"), (r"\beq\b", "=="), (r"\bne\b", "!="), (r"\blt\b", "<"),
        (r"\bgt\b", ">"), (r"\ble\b", "<="), (r"\bge\b", ">="), (r"\btrue\b", "True"), (r"\bfalse\b", "False"),
        (r"\bnull\b", "None"),
    )
    for pattern, replacement in replacements:
        body = re.sub(pattern, replacement, body)
    return " ".join(body.split())


def _extension_elements(node: etree._Element) -> etree._Element:
    found = node.find(f"{_B}extensionElements")
    if found is None:
        found = etree.Element(f"{_B}extensionElements")
        node.insert(0, found)
        found.sourceline = node.sourceline
    return found


def _spiff_properties(node: etree._Element) -> etree._Element:
    extensions = _extension_elements(node)
    found = extensions.find(f"{_S}properties")
    if found is None:
        found = etree.SubElement(extensions, f"{_S}properties")
        found.sourceline = node.sourceline
    return found


def _add_property(node: etree._Element, name: str, value: str, line: int | None, first: bool) -> None:
    """A spiffworkflow:property; the element's own spiffworkflow properties win (they come last)."""
    properties = _spiff_properties(node)
    prop = etree.Element(f"{_S}property", name=name, value=value)
    prop.sourceline = line
    if first:
        properties.insert(0, prop)
    else:
        properties.append(prop)


def _plain_timer(text: str) -> str | None:
    """A Python expression for a timer written as plain ISO 8601 text, None when it is not plain ISO."""
    value = text.strip()
    if not _PLAIN_ISO.match(value):
        return None
    try:
        naive = "T" in value and not value.upper().startswith(("R", "P")) and datetime.fromisoformat(value).tzinfo is None
    except ValueError:
        naive = False
    # Camunda reads a date without offset in the engine's time zone; here that is the service's (GOL_TIMEZONE).
    return f'add_days("{value}", 0)' if naive else f'"{value}"'


def normalise(root: etree._Element) -> etree._Element:
    """Rewrite Camunda Modeler constructs into the form the engine runs (in place; returns the root)."""
    if not isinstance(root.tag, str) or root.tag != f"{_B}definitions":
        return root
    for node in root.iter(f"{_B}userTask", f"{_B}startEvent", f"{_B}businessRuleTask", f"{_B}manualTask"):
        _normalise_element(node)
    for node in root.iter(f"{_B}messageEventDefinition"):
        _normalise_message(node)
    for node in root.iter(*(f"{_B}{kind}" for kind in _TIMER_KINDS)):
        expression = _plain_timer(node.text or "")
        if expression is not None:
            node.text = expression
    return root


def _normalise_element(node: etree._Element) -> None:
    extensions = node.find(f"{_B}extensionElements")
    if extensions is not None:
        for prop in extensions.iterfind(f"{_C}properties/{_C}property"):
            if prop.get("name"):
                _add_property(node, prop.get("name"), prop.get("value") or "", prop.sourceline, first=True)
    form = form_from_key(node.get(f"{_C}formKey"))
    # Beside camunda:formData the key is the generated form's name (Camunda Modeler writes both), not a file.
    generated = node.find(f"{_B}extensionElements/{_C}formData") is not None
    if form is not None and not generated and _local(node) in ("userTask", "startEvent"):
        _add_property(node, FORM_PROPERTY, form, node.sourceline, first=True)
    decision = (node.get(f"{_C}decisionRef") or "").strip()
    if decision and _local(node) == "businessRuleTask":
        holder = _extension_elements(node)
        if holder.find(f"{_S}calledDecisionId") is None:
            called = etree.SubElement(holder, f"{_S}calledDecisionId")
            called.text = decision
            called.sourceline = node.sourceline


def _normalise_message(node: etree._Element) -> None:
    """camunda:expression (the payload a throw sends) and camunda:resultVariable (where a catch puts it) of a
    message event, as SpiffWorkflow's Camunda parser reads them, into SpiffWorkflow's own extensions."""
    for attribute, tag in (("expression", "messagePayload"), ("resultVariable", "messageVariable")):
        value = node.attrib.pop(f"{_C}{attribute}", None)
        holder = _extension_elements(node) if value is not None else None
        if holder is not None and holder.find(f"{_S}{tag}") is None:
            mapped = etree.SubElement(holder, f"{_S}{tag}")
            mapped.text = value
            mapped.sourceline = node.sourceline


def camunda_problems(name: str, root: etree._Element) -> list[Problem]:
    """Camunda constructs of the executable processes that cannot run here, each with the Python equivalent."""
    executable = [p for p in root.iter(f"{_B}process") if p.get("isExecutable", "true") == "true"]
    found = [problem for process in executable for problem in _problems(name, process)]
    return sorted(found, key=lambda p: (p.line or 0, p.element or ""))


def _owner(node: etree._Element) -> etree._Element:
    for candidate in (node, *node.iterancestors()):
        if candidate.get("id") and _local(candidate) not in ("conditionExpression", "extensionElements"):
            return candidate
    return node


def _problems(name: str, scope: etree._Element) -> Iterator[Problem]:
    for node in scope.iter(etree.Element):
        kind = _local(node)
        if not isinstance(node.tag, str):
            continue
        if node.tag.startswith(_B):
            yield from _element_problems(name, node, kind)
        elif node.tag in (f"{_C}executionListener", f"{_C}taskListener"):
            yield _listener(name, node)
        elif node.tag == f"{_C}connector":
            connector = (node.findtext(f"{_C}connectorId") or "?").strip()
            message = (f"camunda:connector '{connector}' does not run here: write the call as a Python connector "
                       "and name it with spiffworkflow:serviceTaskOperator")
            yield Problem(name, node.sourceline, _owner(node).get("id"), message)
        elif node.tag == f"{_C}inputOutput":
            owner = _owner(node)
            message = ("camunda:inputOutput mappings do not run here: set the values in Python, "
                       "in a spiffworkflow:preScript (before) or spiffworkflow:postScript (after) of the element")
            yield Problem(name, node.sourceline, owner.get("id"), message)


def juel_message(what: str, text: str, python: str) -> str:
    """The refusal of a JUEL expression, with its Python rendering."""
    shown = " ".join(text.split())
    return f"{what} {shown} is a JUEL expression (Camunda), which does not run here: write it in Python, e.g. {python}"


def _element_problems(name: str, node: etree._Element, kind: str) -> Iterator[Problem]:
    element = node.get("id")
    if node.get(f"{_C}type") == "external":
        topic = node.get(f"{_C}topic") or "?"
        message = (f'external task (camunda:type="external", topic {topic}) does not run here: no worker fetches it; '
                   "the service calls a Python connector itself: name a registered one with "
                   "spiffworkflow:serviceTaskOperator")
        yield Problem(name, node.sourceline, element, message)
    for attribute in _DELEGATES:
        value = node.get(f"{_C}{attribute}")
        if value is not None:
            message = (f'camunda:{attribute}="{value}" is a Java delegate, which does not run here: '
                       + _delegate_hint(kind))
            yield Problem(name, node.sourceline, element or _owner(node).get("id"), message)
    result = node.get(f"{_C}resultVariable")
    if result is not None and kind == "businessRuleTask":
        message = (f"camunda:resultVariable=\"{result}\" is not read here: the decision's output columns are written "
                   "into the case data by their names; use those names in the conditions that follow")
        yield Problem(name, node.sourceline, element, message)
    language = (node.get("language") or "").strip().lower()
    if kind == "conditionExpression" and language and language not in ("python", "text/x-python"):
        message = (f"condition in {node.get('language')} does not run here: conditions are Python expressions "
                   "(remove the language attribute)")
        yield Problem(name, node.sourceline, _owner(node).get("id"), message)
    if kind in ("userTask", "startEvent") and node.find(f"{_B}extensionElements/{_C}formData") is not None:
        message = ("camunda:formData (a generated task form) is not shown here: the task is completed with a "
                   '"Completa" button, or any JSON object through the API; for a form, write '
                   'forms/<name>.schema.json with the same fields and set camunda:formKey="<name>"')
        yield Problem(name, node.sourceline, element, message, warning=True)
    if kind in ("userTask", "startEvent"):
        key = node.get(f"{_C}formKey")
        if key is not None and form_from_key(key) is None:
            stem = key.strip().rsplit(":", 1)[-1].rsplit("/", 1)[-1].split(".", 1)[0] or "modulo"
            message = (f"camunda:formKey {key!r} names a Camunda form that does not run here: forms are JSON Schema "
                       f'files in forms/: write forms/{stem}{FORM_SUFFIX} and set camunda:formKey="{stem}"')
            yield Problem(name, node.sourceline, element, message)


def _delegate_hint(kind: str) -> str:
    if kind == "serviceTask" or kind == "sendTask":
        return "write the work as a Python connector and name it with spiffworkflow:serviceTaskOperator"
    if kind == "businessRuleTask":
        return 'write the rules as a DMN table and name it with camunda:decisionRef="decision_id"'
    if kind == "messageEventDefinition":
        return "a throwing message event sends its message itself (payload in spiffworkflow:messagePayload)"
    return "write it as a Python script task or a spiffworkflow:preScript/postScript"


def _listener(name: str, node: etree._Element) -> Problem:
    owner = _owner(node)
    event = node.get("event") or "?"
    which = "execution" if _local(node) == "executionListener" else "task"
    where = "spiffworkflow:preScript" if event in ("start", "create", "assignment") else "spiffworkflow:postScript"
    message = (f"camunda:{which}Listener on '{event}' does not run here (Java or script listeners are not called): "
               f"write it in Python as the element's {where}")
    return Problem(name, node.sourceline, owner.get("id"), message)

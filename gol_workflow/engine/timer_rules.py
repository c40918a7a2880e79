"""Timer expressions: Python expressions that must give an ISO 8601 date, duration or cycle.

A literal such as "P5D" is checked as SpiffWorkflow will read it when the timer starts;
an expression that reads case data can only be compiled here.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from ..domain.model import Problem
from .code_rules import compile_problem
from .documents import Document, local_name, owner_id
from .rules import executable_processes

_KINDS = ("timeDate", "timeDuration", "timeCycle")
_EXAMPLES = {"timeDate": '"2026-03-02T09:00:00+01:00"', "timeDuration": '"P5D"', "timeCycle": '"R/P1W"'}
_CRON = re.compile(r"^(\S+\s+){4,6}\S+$")
_ISO_LIKE = re.compile(r"^(R\d*/.*|P(\d|T\d).*|\d{4}-\d{2}-\d{2}([T ].*)?|\d{4}-?W\d{2}.*)$", re.IGNORECASE)


def _duration(value: str) -> None:
    parsed = TimerEventDefinition.parse_iso_duration(value)
    if not value.upper().startswith("P") or not parsed:
        raise ValueError("not a duration")


def _date(value: str) -> None:
    if value.upper().lstrip().startswith("P"):
        raise ValueError("a duration is not a date")
    moment = TimerEventDefinition.parse_time_or_duration(value)
    if not isinstance(moment, datetime):
        raise ValueError("not a date")


def _cycle(value: str) -> None:
    if not value.upper().startswith("R"):
        raise ValueError("a cycle starts with R")
    TimerEventDefinition.parse_iso_recurring_interval(value)


_CHECKS: dict[str, tuple[Callable[[str], Any], str]] = {
    "timeDuration": (_duration, "an ISO 8601 duration such as P5D, PT2H or P1M"),
    "timeDate": (_date, "an ISO 8601 date and time such as 2026-03-02T09:00:00+01:00"),
    "timeCycle": (_cycle, "an ISO 8601 cycle such as R/P1W or R3/2026-03-02T09:00:00+01:00/P1D"),
}


def _naive_date(value: str) -> bool:
    try:
        return datetime.fromisoformat(value).tzinfo is None
    except ValueError:
        return False


def _literal_problem(kind: str, value: Any) -> str | None:
    check, expected = _CHECKS[kind]
    if not isinstance(value, str):
        return f"timer value {value!r} must be a string with {expected}"
    try:
        check(value.strip())
    except Exception:  # noqa: BLE001 - the library raises plain Exception on bad durations
        return f"timer value {value!r} is not {expected}"
    if kind == "timeDate" and _naive_date(value.strip()):
        return f"timer date {value!r} has no UTC offset: write it with one, e.g. {_EXAMPLES['timeDate']}"
    return None


def timer_problem(doc: Document, node: etree._Element) -> Problem | None:
    """What is wrong with one timeDate/timeDuration/timeCycle element, if anything."""
    kind = local_name(node)
    element = owner_id(node)
    text = node.text or ""
    stripped = text.strip()
    if not stripped:
        message = f"timer {kind} is empty: write an ISO 8601 value in quotes, e.g. {_EXAMPLES[kind]}"
        return Problem(doc.name, node.sourceline, element, message)
    if _ISO_LIKE.match(stripped):
        message = f'timer value {stripped} must be written as a Python string, with quotes: "{stripped}"'
        return Problem(doc.name, node.sourceline, element, message)
    problem = compile_problem(doc, node, text, f"timer {kind}", script=False)
    if problem is not None and _CRON.match(stripped):
        hint = f" (a cron expression, which Camunda reads: write an ISO 8601 cycle, e.g. {_EXAMPLES['timeCycle']})"
        return Problem(problem.file, problem.line, problem.element, problem.message + hint)
    if problem is not None:
        return problem
    try:
        value = ast.literal_eval(stripped)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None  # it reads case data: it can only be compiled before it runs
    message = _literal_problem(kind, value)
    return Problem(doc.name, node.sourceline, element, message) if message else None


def _definitions(doc: Document) -> Iterator[etree._Element]:
    for process in executable_processes(doc):
        yield from process.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}timerEventDefinition")


def timer_problems(doc: Document) -> list[Problem]:
    """Every timer of the executable processes whose expression cannot give a valid ISO 8601 value."""
    problems: list[Problem] = []
    for definition in _definitions(doc):
        # SpiffWorkflow reads the first of timeDate, timeDuration, timeCycle that is present.
        values = sorted((c for c in definition if local_name(c) in _KINDS), key=lambda c: _KINDS.index(local_name(c)))
        if not values:
            message = "timer has no timeDate, timeDuration or timeCycle"
            problems.append(Problem(doc.name, definition.sourceline, owner_id(definition), message))
            continue
        problem = timer_problem(doc, values[0]) or _cycle_on_start(doc, definition, values[0])
        if problem is not None:
            problems.append(problem)
    return problems


def _cycle_on_start(doc: Document, definition: etree._Element, value: etree._Element) -> Problem | None:
    """An endless cycle on a process's start event re-runs the body inside one instance, which grows for ever."""
    event = definition.getparent()
    process = event.getparent() if event is not None else None
    if local_name(value) != "timeCycle" or event is None or local_name(event) != "startEvent":
        return None
    if process is None or local_name(process) != "process":
        return None
    try:
        literal = ast.literal_eval((value.text or "").strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if not isinstance(literal, str) or not literal.strip().upper().startswith("R/"):
        return None  # a bounded cycle ends; an expression cannot be judged here
    message = (
        "an endless cycle timer on the process's start event repeats the whole process inside one instance, "
        "which grows without end: start one instance per occurrence instead (e.g. a message start)"
    )
    return Problem(doc.name, value.sourceline, event.get("id"), message)

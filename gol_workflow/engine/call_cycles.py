"""Call activities that call their own process, directly or through other processes: refused.

SpiffWorkflow creates the called process when a call activity runs, so a process that calls itself
(A → A, or A → B → A) starts a new copy of itself for ever: starting an instance never returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from ..domain.model import Problem
from .documents import BPMN_NS, Document


@dataclass(frozen=True)
class _Call:
    doc: Document
    node: etree._Element
    caller: str
    called: str


def _calls(docs: Iterable[Document]) -> list[_Call]:
    found: list[_Call] = []
    for doc in docs:
        if not doc.is_bpmn:
            continue
        for process in doc.iter_bpmn("process"):
            caller = process.get("id")
            if not caller:
                continue
            for node in process.iter(f"{{{BPMN_NS}}}callActivity"):
                called = (node.get("calledElement") or "").strip()
                if called:
                    found.append(_Call(doc, node, caller, called))
    return found


def _chain_back(graph: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    """A shortest chain of calls from `start` to `goal` (both included), if there is one."""
    previous: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for process in frontier:
            if process == goal:
                chain: list[str] = []
                step: str | None = process
                while step is not None:
                    chain.append(step)
                    step = previous[step]
                return list(reversed(chain))
            for called in sorted(graph.get(process, ())):
                if called not in previous:
                    previous[called] = process
                    following.append(called)
        frontier = following
    return None


def call_cycle_problems(docs: Iterable[Document]) -> list[Problem]:
    """One problem per call activity that leads back to the process that holds it."""
    calls = _calls(docs)
    graph: dict[str, set[str]] = {}
    for call in calls:
        graph.setdefault(call.caller, set()).add(call.called)
    problems: list[Problem] = []
    for call in calls:
        chain = _chain_back(graph, call.called, call.caller)
        if chain is None:
            continue
        route = " → ".join([call.caller, *chain])
        message = (f"call activity calls process '{call.called}', which leads back to '{call.caller}' "
                   f"({route}): a recursive call never ends, starting an instance would never return")
        problems.append(Problem(call.doc.name, call.node.sourceline, call.node.get("id"), message))
    return problems

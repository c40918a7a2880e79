"""The project's own rules on top of XSD and SpiffWorkflow checks: lanes, forms, gateways, operators."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, replace

from lxml import etree

from ..domain.durations import parse_duration
from ..domain.model import Problem
from .documents import SPIFF_NS, Document, is_model_element, local_name
from .camunda_assignment import declared, is_expression, task_candidates
from .parsing import CAMUNDA_NS, DUE_PROPERTY, FORM_PROPERTY

_CONTAINERS = frozenset({"subProcess", "transaction", "adHocSubProcess"})
_CAMUNDA_IMPLEMENTATIONS = ("class", "delegateExpression", "expression", "type", "topic")


@dataclass(frozen=True)
class RuleContext:
    """What the rules check against; None means 'not known here, do not check'."""

    forms: Collection[str] | None = None
    operators: Collection[str] | None = None
    lanes: Collection[str] | None = None
    roles: Collection[str] | None = None  # roles of the role file, for camunda:candidateGroups
    processes: Collection[str] | None = None  # process ids of all the files validated together
    decisions: Collection[str] | None = None  # decision ids of all the DMN files validated together

    def knowing(self, docs: Iterable[Document]) -> "RuleContext":
        """This context with the process and decision ids the documents define."""
        docs = list(docs)
        processes = {p.get("id") for doc in docs if doc.is_bpmn for p in doc.iter_bpmn("process")}
        decisions = {d.get("id") for doc in docs if doc.is_dmn for d in doc.root if local_name(d) == "decision"}
        return replace(self, processes=frozenset(processes - {None}), decisions=frozenset(decisions - {None}))


def executable_processes(doc: Document) -> list[etree._Element]:
    """The processes SpiffWorkflow would run (isExecutable is not 'false')."""
    return [p for p in doc.iter_bpmn("process") if p.get("isExecutable", "true") == "true"]


def _properties(node: etree._Element) -> dict[str, etree._Element]:
    found: dict[str, etree._Element] = {}
    for prop in node.iter(f"{{{SPIFF_NS}}}property"):
        if prop.get("name"):
            found[prop.get("name")] = prop  # the last one wins, as in SpiffWorkflow
    return found


def _lane_names(doc: Document) -> dict[str, etree._Element]:
    lanes: dict[str, etree._Element] = {}
    for ref in doc.iter_bpmn("flowNodeRef"):
        if ref.text is not None:
            lanes[ref.text] = ref.getparent()
    return lanes


def _lane_of(node: etree._Element, lanes: dict[str, etree._Element]) -> etree._Element | None:
    """The lane SpiffWorkflow gives a task: an enclosing subprocess's lane wins over its own."""
    chain = [a for a in reversed(list(node.iterancestors())) if local_name(a) in _CONTAINERS] + [node]
    for item in chain:
        lane = lanes.get(item.get("id") or "")
        if lane is not None and lane.get("name"):
            return lane
    return next((lanes[i.get("id")] for i in chain if i.get("id") in lanes), None)


def _task_problems(doc: Document, node: etree._Element, lanes: dict[str, etree._Element], ctx: RuleContext) -> Iterator[Problem]:
    element = node.get("id")
    line = node.sourceline
    lane = _lane_of(node, lanes)
    kind = "user task" if local_name(node) == "userTask" else "manual task"
    named = bool(task_candidates(node))
    yield from _candidate_problems(doc, node, ctx)
    if lane is None and not named:
        yield Problem(doc.name, line, element, f"{kind} is not in a lane and names no camunda:candidateGroups or "
                      "candidateUsers: only administrators will work it", warning=True)
    elif lane is not None and not lane.get("name") and not named:
        yield Problem(doc.name, line, element, f"{kind} is in lane {lane.get('id')}, which has no name: "
                      "only administrators will work it", warning=True)
    elif lane is not None and lane.get("name") and ctx.lanes is not None and lane.get("name") not in ctx.lanes \
            and not named:
        known = ", ".join(sorted(ctx.lanes)) or "none"
        message = (f"lane '{lane.get('name')}' is not in lanes.toml ({known}) and the task names no "
                   "camunda:candidateGroups: only administrators will work it")
        yield Problem(doc.name, line, element, message, warning=True)
    properties = _properties(node)
    if local_name(node) == "userTask":
        yield from _form_problems(doc, node, properties, ctx, required=True)
    due = properties.get(DUE_PROPERTY)
    if due is not None:
        try:
            parse_duration(due.get("value") or "")
        except ValueError as exc:
            yield Problem(doc.name, due.sourceline, element, f"property {DUE_PROPERTY}: {exc}")


def _form_problems(
    doc: Document, node: etree._Element, properties: dict[str, etree._Element], ctx: RuleContext, required: bool
) -> Iterator[Problem]:
    prop = properties.get(FORM_PROPERTY)
    form = prop.get("value") if prop is not None else None
    element = node.get("id")
    if not form:
        # A Camunda form key or generated form (formData) is reported by camunda.py.
        camunda_form = (node.get(f"{{{CAMUNDA_NS}}}formKey") is not None
                        or node.find(f".//{{{CAMUNDA_NS}}}formData") is not None)
        if required and not camunda_form:
            message = (f"user task names no form (property {FORM_PROPERTY} or camunda:formKey): it is completed "
                       "with a \"Completa\" button, or any JSON object through the API")
            yield Problem(doc.name, node.sourceline, element, message, warning=True)
        return
    if ctx.forms is not None and form not in ctx.forms:
        line = prop.sourceline if prop is not None else node.sourceline
        yield Problem(doc.name, line, element, f"form {form} does not exist in the forms folder")


def _outgoing(doc: Document) -> dict[str, list[etree._Element]]:
    flows: dict[str, list[etree._Element]] = {}
    for flow in doc.iter_bpmn("sequenceFlow"):
        flows.setdefault(flow.get("sourceRef") or "", []).append(flow)
    return flows


def _condition_text(flow: etree._Element) -> str | None:
    for child in flow:
        if local_name(child) == "conditionExpression":
            return child.text if child.text and child.text.strip() else None
    return None


def _gateway_problems(doc: Document, gateway: etree._Element, flows: list[etree._Element]) -> Iterator[Problem]:
    kind = local_name(gateway)
    gateway_id = gateway.get("id")
    if kind == "parallelGateway":
        for flow in flows:
            if _condition_text(flow) is not None:
                message = f"condition on a flow out of parallel gateway {gateway_id} is ignored: use an exclusive or inclusive gateway"
                yield Problem(doc.name, flow.sourceline, flow.get("id"), message)
        return
    default = gateway.get("default")
    if default and default not in {f.get("id") for f in flows}:
        message = f"default flow {default} is not a flow out of this gateway"
        yield Problem(doc.name, gateway.sourceline, gateway_id, message)
    if len(flows) < 2:
        return
    label = "exclusive" if kind == "exclusiveGateway" else "inclusive"
    for flow in flows:
        if flow.get("id") != default and _condition_text(flow) is None:
            message = f"flow out of {label} gateway {gateway_id} has no condition and is not the gateway's default flow"
            yield Problem(doc.name, flow.sourceline, flow.get("id"), message)


def _service_problems(doc: Document, task: etree._Element, ctx: RuleContext) -> Iterator[Problem]:
    spiff = f"{{{SPIFF_NS}}}"
    operator = next(task.iter(f"{spiff}serviceTaskOperator"), None)
    element = task.get("id")
    if operator is None:
        camunda = any(task.get(f"{{{CAMUNDA_NS}}}{a}") for a in _CAMUNDA_IMPLEMENTATIONS)
        if not camunda and next(task.iter(f"{{{CAMUNDA_NS}}}connector"), None) is None:  # else: see camunda.py
            yield Problem(doc.name, task.sourceline, element, "service task has no spiffworkflow:serviceTaskOperator")
        return
    name = operator.get("id") or ""
    if ctx.operators is not None and name not in ctx.operators:
        known = ", ".join(sorted(ctx.operators)) or "none registered"
        yield Problem(doc.name, operator.sourceline, element, f"unknown service operator '{name}' (known: {known})")
    for param in operator.iter(f"{spiff}parameter"):
        if "value" not in param.attrib:
            message = f"parameter '{param.get('id')}' has no value: the connector would not receive it"
            yield Problem(doc.name, param.sourceline, element, message)


def _reference_problems(doc: Document, node: etree._Element, ctx: RuleContext) -> Iterator[Problem]:
    kind = local_name(node)
    called = node.get("calledElement")
    if kind == "callActivity" and called and ctx.processes is not None and called not in ctx.processes:
        message = f"called process '{node.get('calledElement')}' is not defined in the files validated together"
        yield Problem(doc.name, node.sourceline, node.get("id"), message)
    elif kind == "businessRuleTask":
        for ref in node.iter(f"{{{SPIFF_NS}}}calledDecisionId"):
            decision = (ref.text or "").strip()
            if ctx.decisions is not None and decision not in ctx.decisions:
                message = f"decision '{decision}' is not defined in the DMN files validated together"
                yield Problem(doc.name, ref.sourceline, node.get("id"), message)


def _candidate_problems(doc: Document, node: etree._Element, ctx: RuleContext) -> Iterator[Problem]:
    """Roles named in camunda:candidateGroups / candidateStarterGroups must be roles of the role file."""
    for attribute, name in declared(node):
        where = f"camunda:{attribute}"
        if is_expression(name):
            yield Problem(doc.name, node.sourceline, node.get("id"),
                          f"{where}: {name} is an expression; name roles or people, expressions are not evaluated")
        elif attribute.endswith("Groups") and ctx.roles is not None and name not in ctx.roles:
            known = ", ".join(ctx.roles) or "none"
            yield Problem(doc.name, node.sourceline, node.get("id"),
                          f"{where}: unknown role '{name}' (roles.toml: {known})")


def check_project_rules(doc: Document, ctx: RuleContext) -> list[Problem]:
    """Lanes and forms of user tasks, gateway conditions, service operators and references, in executable processes."""
    if not doc.is_bpmn:
        return []
    problems: list[Problem] = []
    lanes = _lane_names(doc)
    outgoing = _outgoing(doc)
    for process in executable_processes(doc):
        problems.extend(_candidate_problems(doc, process, ctx))
        for node in process.iter(etree.Element):
            kind = local_name(node) if is_model_element(node) else ""
            if kind in ("userTask", "manualTask"):
                problems.extend(_task_problems(doc, node, lanes, ctx))
            elif kind == "startEvent":
                problems.extend(_form_problems(doc, node, _properties(node), ctx, required=False))
            elif kind in ("exclusiveGateway", "inclusiveGateway", "parallelGateway"):
                problems.extend(_gateway_problems(doc, node, outgoing.get(node.get("id") or "", [])))
            elif kind == "serviceTask":
                problems.extend(_service_problems(doc, node, ctx))
            elif kind in ("callActivity", "businessRuleTask"):
                problems.extend(_reference_problems(doc, node, ctx))
    return problems


def dmn_structure_problems(doc: Document) -> list[Problem]:
    """What SpiffWorkflow cannot load in a DMN file: it reads one decision table, in the default namespace."""
    namespace = etree.QName(doc.root).namespace
    if doc.root.nsmap.get(None) != namespace:
        prefix = doc.root.prefix or ""
        message = f'DMN elements must be in the default namespace (xmlns="{namespace}"), not under the prefix "{prefix}:"'
        return [Problem(doc.name, doc.root.sourceline, doc.root.get("id"), message)]
    decisions = [node for node in doc.root if local_name(node) == "decision"]
    if not decisions:
        return [Problem(doc.name, doc.root.sourceline, doc.root.get("id"), "the DMN file has no decision")]
    problems: list[Problem] = []
    for extra in decisions[1:]:
        message = f"only one decision per DMN file can run: move decision '{extra.get('id')}' to its own file"
        problems.append(Problem(doc.name, extra.sourceline, extra.get("id"), message))
    first = decisions[0]
    if not any(local_name(node) == "decisionTable" for node in first):
        message = "the decision has no decision table (only decision tables can run)"
        problems.append(Problem(doc.name, first.sourceline, first.get("id"), message))
    return problems

"""What kind of failure stopped a step, decided by the exception's type and the failing element's type."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask

from ..domain.errors import GolError
from .limits import ScriptLimitExceeded, ScriptRefused, ScriptTimeout
from .scripting import ServiceUnavailable

# The kinds, most specific first; the Italian words for each are in domain.incident_kinds.
_BY_CAUSE: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
    (ScriptTimeout, "script_timeout"),
    (ScriptLimitExceeded, "script_limit"),
    (ScriptRefused, "script_refused"),
    (SyntaxError, "script_syntax"),
    (NameError, "missing_variable"),
    ((KeyError, IndexError), "missing_field"),
    (ZeroDivisionError, "arithmetic"),
    ((TypeError, ValueError, AttributeError), "wrong_value"),
    (ServiceUnavailable, "service_unavailable"),
    ((GolError, ConnectionError, TimeoutError, OSError), "service"),
)


def cause_of(exc: BaseException) -> BaseException:
    """The innermost exception a library wrapped (SpiffWorkflow re-raises the script's own as its cause)."""
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = exc.__cause__ or exc.__context__
        if inner is None:
            break
        exc = inner
    return exc


def kind_of(exc: BaseException, spec: Any) -> str:
    """A stable code for the failure: by the innermost exception's type, then by the failing element's type."""
    cause = cause_of(exc)
    for types, kind in _BY_CAUSE:
        if isinstance(cause, types):
            return "service" if kind == "wrong_value" and isinstance(spec, ServiceTask) else kind
    if isinstance(spec, (ExclusiveGateway, InclusiveGateway)):
        return "no_path"
    if isinstance(spec, SubWorkflowTask):
        return "subprocess"
    if isinstance(spec, ServiceTask):
        return "service"
    return "engine"


def skippable(spec: Any) -> bool:
    """Whether a failed element can be completed without running it: not a decision, a join or a subprocess."""
    return not isinstance(spec, (ExclusiveGateway, InclusiveGateway, ParallelGateway, SubWorkflowTask))

"""What failed is decided by the exception's type (the innermost one a library wrapped), never by its text."""

from __future__ import annotations

import pytest

from gol_workflow.domain.incident_kinds import KINDS, explain
from gol_workflow.engine.error_kinds import kind_of
from gol_workflow.engine.limits import ScriptTimeout
from gol_workflow.services.integrations.idol import IdolRefused


def wrapped(inner: BaseException) -> BaseException:
    """The exception as the engine sees it: another type, raised while handling the script's own."""
    try:
        try:
            raise inner
        except BaseException as exc:
            raise RuntimeError("Error evaluating expression 'quota = 100 / divisore'") from exc
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize("inner, kind", [
    (ZeroDivisionError("division by zero"), "arithmetic"),
    (NameError("name 'divisore' is not defined"), "missing_variable"),
    (KeyError("zona"), "missing_field"),
    (TypeError("unsupported operand"), "wrong_value"),
    (ScriptTimeout("too long"), "script_timeout"),
    (SyntaxError("invalid syntax"), "script_syntax"),
])
def test_the_kind_comes_from_the_wrapped_exception_type(inner, kind) -> None:
    assert kind_of(wrapped(inner), None) == kind


def test_the_same_words_under_another_type_are_another_kind() -> None:
    message = "division by zero"
    assert kind_of(wrapped(ZeroDivisionError(message)), None) == "arithmetic"
    assert kind_of(wrapped(ValueError(message)), None) == "wrong_value"
    assert kind_of(wrapped(LookupError(message)), None) == "engine"


def test_a_connector_refusal_is_a_service_failure_and_every_kind_has_italian_words() -> None:
    assert kind_of(wrapped(IdolRefused("refused", "codice fiscale non presente", 422)), None) == "service"
    for kind in KINDS:
        explanation, advice = explain(kind)
        assert explanation.endswith(".") and advice.endswith(".")
    assert explain("not-a-kind") == KINDS["engine"]

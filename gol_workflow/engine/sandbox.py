"""A RestrictedPython environment for BPMN scripts, conditions and expressions.

SpiffWorkflow's default environment runs full Python: `import os`, `open()` and
`().__class__.__base__.__subclasses__()` all work there. Here code is compiled with
RestrictedPython (no dunder names, no imports, guarded attribute and item access),
runs with a small set of builtins, and code that can loop is stopped after a time limit.
"""

from __future__ import annotations

import ast
import builtins
import copy
import operator
import sys
import time
from collections.abc import Callable, Mapping
from functools import lru_cache
from types import CodeType, FrameType, ModuleType
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from RestrictedPython.PrintCollector import PrintCollector
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

SCRIPT_FILENAME = "<bpmn-script>"

_EXTRA_BUILTINS = (
    "all any dict enumerate filter frozenset list map max min reversed set sorted sum tuple zip"
).split()


class ScriptTimeout(Exception):
    """A script ran longer than the sandbox allows."""


class ScriptSyntaxError(SyntaxError):
    """Code that does not compile, or uses something the sandbox forbids."""


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    operators: dict[str, Callable[[Any, Any], Any]] = {
        "+=": operator.iadd,
        "-=": operator.isub,
        "*=": operator.imul,
        "/=": operator.itruediv,
        "//=": operator.ifloordiv,
        "%=": operator.imod,
        "|=": operator.ior,
        "&=": operator.iand,
    }
    try:
        return operators[op](target, value)
    except KeyError:
        raise ScriptSyntaxError(f"operator {op} is not allowed in scripts") from None


def _guarded_getitem(obj: Any, key: Any) -> Any:
    return obj[key]


def _guarded_getiter(obj: Any) -> Any:
    return iter(obj)


def _restricted_builtins() -> dict[str, Any]:
    allowed = dict(safe_builtins)
    for name in _EXTRA_BUILTINS:
        allowed[name] = getattr(builtins, name)
    allowed.pop("__build_class__", None)  # no class statements in process scripts
    return allowed


def _guard_globals() -> dict[str, Any]:
    return {
        "__builtins__": _restricted_builtins(),
        "__name__": "bpmn_script",
        "__metaclass__": type,
        "_getattr_": safer_getattr,
        "_getitem_": _guarded_getitem,
        "_getiter_": _guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": _inplacevar,
        "_print_": PrintCollector,
        "_apply_": lambda func, *args, **kwargs: func(*args, **kwargs),
    }


_LOOPING_NODES = (ast.For, ast.While, ast.comprehension, ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)


class _Compiled:
    __slots__ = ("code", "can_loop")

    def __init__(self, code: CodeType, can_loop: bool) -> None:
        self.code = code
        self.can_loop = can_loop


def _raise_compile_errors(source: str, errors: tuple[str, ...] | list[str]) -> None:
    message = "; ".join(errors)
    line = None
    for error in errors:
        # RestrictedPython reports "Line N: ..." for its own findings.
        if error.startswith("Line "):
            head = error[5:].split(":", 1)[0]
            if head.isdigit():
                line = int(head)
                break
    exc = ScriptSyntaxError(message)
    exc.lineno = line or 1
    exc.text = source.splitlines()[exc.lineno - 1] if source.splitlines() else ""
    raise exc


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> _Compiled:
    """Compile an expression for the sandbox (cached by its text)."""
    # Modelers indent expressions inside their XML elements; whitespace around one is not code.
    source = source.strip()
    result = compile_restricted_eval(source, filename=SCRIPT_FILENAME)
    if result.errors or result.code is None:
        _raise_compile_errors(source, result.errors or ("invalid expression",))
    return _Compiled(result.code, _can_loop(source))


@lru_cache(maxsize=4096)
def compile_script(source: str) -> _Compiled:
    """Compile a script for the sandbox (cached by its text)."""
    result = compile_restricted_exec(source, filename=SCRIPT_FILENAME)
    if result.errors or result.code is None:
        _raise_compile_errors(source, result.errors or ("invalid script",))
    return _Compiled(result.code, _can_loop(source))


def _can_loop(source: str) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return True
    return any(isinstance(node, _LOOPING_NODES) for node in ast.walk(tree))


def _run_with_deadline(run: Callable[[], Any], limit: float) -> Any:
    """Run `run`, stopping code compiled from BPMN once it passes the time limit."""
    deadline = time.monotonic() + limit

    def local_trace(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line" and time.monotonic() > deadline:
            raise ScriptTimeout(f"script stopped after {limit:g} s (time limit)")
        return local_trace

    def global_trace(frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename == SCRIPT_FILENAME:
            return local_trace
        return None

    previous = sys.gettrace()
    sys.settrace(global_trace)
    try:
        return run()
    finally:
        sys.settrace(previous)


def _is_data(value: Any) -> bool:
    return not (callable(value) or isinstance(value, ModuleType))


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates and executes BPMN code under RestrictedPython with a time limit."""

    def __init__(
        self,
        helpers: Mapping[str, Any],
        time_limit: float = 2.0,
        service_call: Callable[..., Any] | None = None,
    ) -> None:
        super().__init__(dict(helpers))
        self._base = {**_guard_globals(), **helpers}
        self.time_limit = time_limit
        self._service_call = service_call

    def _globals(self, context: Mapping[str, Any], external: Mapping[str, Any] | None) -> dict[str, Any]:
        scope = dict(self._base)
        if external:
            scope.update(external)
        scope.update(context)
        return scope

    def evaluate(self, expression: str, context: Mapping[str, Any], external_context: Any = None) -> Any:
        """Evaluate an expression against task data."""
        compiled = compile_expression(expression)
        scope = self._globals(context, external_context)
        if compiled.can_loop:
            return _run_with_deadline(lambda: eval(compiled.code, scope), self.time_limit)
        return eval(compiled.code, scope)

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        """Run a script; its top-level assignments become task data."""
        compiled = compile_script(script)
        # A deep copy: SpiffWorkflow shares nested objects between a task's data and its
        # ancestors', so an in-place change (x['a'].append(...)) would rewrite history.
        scope = self._globals(copy.deepcopy(context), external_context)
        if compiled.can_loop:
            _run_with_deadline(lambda: exec(compiled.code, scope), self.time_limit)
        else:
            exec(compiled.code, scope)
        external = external_context or {}
        for key in [k for k in context if k not in scope]:
            del context[key]
        for key, value in scope.items():
            if key.startswith("_") or not _is_data(value):
                continue
            if key in context or (self._base.get(key, _MISSING) is not value and key not in external):
                context[key] = value
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        """Service tasks are routed by the script engine, not the environment."""
        raise NotImplementedError("service calls go through the script engine")


_MISSING = object()

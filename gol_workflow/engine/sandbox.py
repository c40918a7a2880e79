"""A RestrictedPython environment for BPMN scripts, conditions and expressions.

SpiffWorkflow's default environment runs full Python: `import os`, `open()` and
`().__class__.__base__.__subclasses__()` all work there. Here code is compiled with
RestrictedPython (no dunder names, no imports, guarded attribute and item access),
runs with a small set of builtins, and every evaluation is bounded (see limits.py): operators,
f-string fields, comparisons and size-taking builtins and methods check the size of their result
before building it, and code that can loop is stopped at the time or memory limit.
"""

from __future__ import annotations

import ast
import builtins
import copy
from collections.abc import Callable, Mapping
from functools import lru_cache
from types import CodeType, ModuleType
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
)
from RestrictedPython.PrintCollector import PrintCollector
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .limits import (
    SCRIPT_FILENAME,
    ScriptLimitExceeded,
    ScriptLimits,
    ScriptMemoryExceeded,
    ScriptRefused,
    ScriptTimeout,
    ScriptTooLarge,
    check_result,
    check_value,
    checked_iter,
    compared,
    compared_container,
    guarded_binop,
    guarded_format,
    guarded_inplace,
    materialise,
    run_bounded,
)
from .script_builtins import bounded_builtins, guarded_getattr

__all__ = [
    "SCRIPT_FILENAME",
    "SandboxEnvironment",
    "ScriptLimitExceeded",
    "ScriptLimits",
    "ScriptMemoryExceeded",
    "ScriptRefused",
    "ScriptSyntaxError",
    "ScriptTimeout",
    "ScriptTooLarge",
    "compile_expression",
    "compile_script",
    "never_provided_builtins",
]

_EXTRA_BUILTINS = (
    "all any dict enumerate filter frozenset list map max min reversed set sorted sum tuple zip"
).split()


class ScriptSyntaxError(SyntaxError):
    """Code that does not compile, or uses something the sandbox forbids."""


def _guarded_getitem(obj: Any, key: Any) -> Any:
    return obj[key]


def _guarded_getiter(obj: Any) -> Any:
    return checked_iter(obj)


def _starred(value: Any) -> list[Any]:
    return materialise(value, "a list")


def _restricted_builtins() -> dict[str, Any]:
    allowed = dict(safe_builtins)
    for name in _EXTRA_BUILTINS:
        allowed[name] = getattr(builtins, name)
    allowed.update(bounded_builtins())
    allowed.pop("__build_class__", None)  # no class statements in process scripts
    return allowed


@lru_cache(maxsize=1)
def never_provided_builtins() -> frozenset[str]:
    """Python builtins BPMN code can never call here (open, eval, getattr, type, ...)."""
    provided = _restricted_builtins()
    # print is rewritten by RestrictedPython into its print collector.
    return frozenset(
        name for name in dir(builtins) if name[:1].islower() and name not in provided and name != "print"
    )


def _guard_globals() -> dict[str, Any]:
    return {
        "__builtins__": _restricted_builtins(),
        "__name__": "bpmn_script",
        "__metaclass__": type,
        "_getattr_": guarded_getattr,
        "_getitem_": _guarded_getitem,
        "_getiter_": _guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": guarded_inplace,
        "_print_": PrintCollector,
        "_apply_": lambda func, *args, **kwargs: func(*args, **kwargs),
        _BINOP: guarded_binop,
        _FORMAT: guarded_format,
        _COMPARED: compared,
        _COMPARED_IN: compared_container,
        _STARRED: _starred,
        _TUPLE: check_value,
    }


_BINOP, _FORMAT, _COMPARED, _COMPARED_IN = "_binop_", "_format_", "_compared_", "_compared_in_"
_STARRED, _TUPLE = "_starred_", "_tuple_"
_GUARDED_OPERATORS: dict[type[ast.operator], str] = {
    ast.Mult: "*",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.Add: "+",
    ast.Mod: "%",
}


def _call(name: str, node: ast.AST, *args: ast.expr) -> ast.Call:
    call = ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])
    return ast.fix_missing_locations(ast.copy_location(call, node))


class _BoundingTransformer(RestrictingNodeTransformer):
    """RestrictedPython's checks, plus operators, f-string fields and comparisons routed through size guards."""

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        symbol = _GUARDED_OPERATORS.get(type(node.op))
        if symbol is None or _constant_and_small(symbol, node.left, node.right):
            return node
        return _call(_BINOP, node, ast.Constant(symbol), node.left, node.right)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        node = self.node_contents_visit(node)
        spec: ast.expr = node.format_spec if node.format_spec is not None else ast.Constant("")
        guarded = _call(_FORMAT, node, node.value, ast.Constant(node.conversion), spec)
        return ast.copy_location(ast.FormattedValue(value=guarded, conversion=-1, format_spec=None), node)

    def visit_Tuple(self, node: ast.Tuple) -> Any:
        node = self.node_contents_visit(node)
        if not isinstance(node.ctx, ast.Load) or all(isinstance(e, ast.Constant) for e in node.elts):
            return node
        # A tuple is hashable: `t = (t, t)` in a loop would make one hash walk 2**n elements in C.
        return _call(_TUPLE, node, node)

    def visit_Starred(self, node: ast.Starred) -> Any:
        node = self.node_contents_visit(node)
        if isinstance(node.ctx, ast.Load):  # [*x], f(*x): unpacked in C, so materialised under the limits first
            node.value = _call(_STARRED, node.value, node.value)
        return node

    def visit_Compare(self, node: ast.Compare) -> Any:
        node = self.node_contents_visit(node)
        if not isinstance(node.left, ast.Constant):
            node.left = _call(_COMPARED, node.left, node.left)
        comparators = []
        for op, comparator in zip(node.ops, node.comparators):
            if isinstance(comparator, ast.Constant):
                comparators.append(comparator)
                continue
            guard = _COMPARED_IN if isinstance(op, (ast.In, ast.NotIn)) else _COMPARED
            comparators.append(_call(guard, comparator, comparator))
        node.comparators = comparators
        return node


def _constant_and_small(symbol: str, left: ast.expr, right: ast.expr) -> bool:
    """Two literals added (or numbers multiplied) stay about as small as the source text."""
    if not (isinstance(left, ast.Constant) and isinstance(right, ast.Constant)):
        return False
    if symbol == "+":
        return True
    numbers = all(isinstance(v, (int, float)) and abs(v) < 1 << 64 for v in (left.value, right.value))
    return symbol == "*" and numbers


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
    result = compile_restricted_eval(source, filename=SCRIPT_FILENAME, policy=_BoundingTransformer)
    if result.errors or result.code is None:
        _raise_compile_errors(source, result.errors or ("invalid expression",))
    return _Compiled(result.code, _can_loop(source))


@lru_cache(maxsize=4096)
def compile_script(source: str) -> _Compiled:
    """Compile a script for the sandbox (cached by its text)."""
    result = compile_restricted_exec(source, filename=SCRIPT_FILENAME, policy=_BoundingTransformer)
    if result.errors or result.code is None:
        _raise_compile_errors(source, result.errors or ("invalid script",))
    return _Compiled(result.code, _can_loop(source))


def _can_loop(source: str) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return True
    return any(isinstance(node, _LOOPING_NODES) for node in ast.walk(tree))


def _is_data(value: Any) -> bool:
    return not (callable(value) or isinstance(value, ModuleType))


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates and executes BPMN code under RestrictedPython, bounded in time, memory and size."""

    def __init__(
        self,
        helpers: Mapping[str, Any],
        time_limit: float = 2.0,
        service_call: Callable[..., Any] | None = None,
        limits: ScriptLimits | None = None,
    ) -> None:
        super().__init__(dict(helpers))
        self._guards = _guard_globals()
        self._base = {**self._guards, **helpers}
        self.limits = limits if limits is not None else ScriptLimits(time=time_limit)
        self._service_call = service_call

    @property
    def time_limit(self) -> float:
        """Seconds one evaluation may run."""
        return self.limits.time

    def _globals(self, context: Mapping[str, Any], external: Mapping[str, Any] | None) -> dict[str, Any]:
        scope = dict(self._base)
        if external:
            scope.update(external)
        scope.update(context)
        # Task data comes from forms and payloads: a field named like a guard must not replace it.
        scope.update(self._guards)
        return scope

    def evaluate(self, expression: str, context: Mapping[str, Any], external_context: Any = None) -> Any:
        """Evaluate an expression against task data."""
        compiled = compile_expression(expression)
        scope = self._globals(context, external_context)
        return run_bounded(lambda: check_result(eval(compiled.code, scope)), self.limits, compiled.can_loop)

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        """Run a script; its top-level assignments become task data."""
        compiled = compile_script(script)
        # A deep copy: SpiffWorkflow shares nested objects between a task's data and its
        # ancestors', so an in-place change (x['a'].append(...)) would rewrite history.
        scope = self._globals(copy.deepcopy(context), external_context)
        external = external_context or {}

        def run() -> dict[str, Any]:
            exec(compiled.code, scope)
            outputs = {
                key: value
                for key, value in scope.items()
                if not key.startswith("_")
                and _is_data(value)
                and (key in context or (self._base.get(key, _MISSING) is not value and key not in external))
            }
            check_result(list(outputs.values()))  # what becomes task data is stored and shown
            return outputs

        outputs = run_bounded(run, self.limits, compiled.can_loop)
        for key in [k for k in context if k not in scope]:
            del context[key]
        context.update(outputs)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        """Service tasks are routed by the script engine, not the environment."""
        raise NotImplementedError("service calls go through the script engine")


_MISSING = object()

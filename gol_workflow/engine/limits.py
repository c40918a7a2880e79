"""Bounds on what one evaluation of BPMN code may cost: time, memory and the size of what it builds.

A time limit checked between lines cannot stop a single C-level call (`sum(range(10**11))`,
`'a' * 10**9`, `f"{0:>999999999}"`), so the sandbox routes every operation that can build
something large through the guards below, which compute the size of the result *before*
building it and refuse what is over the limit. Loops are stopped by the trace function of
`run_bounded`, which also watches the process's resident memory.
"""

from __future__ import annotations

import builtins
import math
import operator
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as day_time
from types import FrameType
from typing import Any

SCRIPT_FILENAME = "<bpmn-script>"


@dataclass(frozen=True)
class ScriptLimits:
    """What one evaluation of a script, condition or expression may use."""

    time: float = 2.0  # seconds of wall time
    memory_mb: int = 128  # growth of the process's resident memory
    max_string: int = 10_000_000  # characters (or bytes) of one string
    max_items: int = 1_000_000  # elements of one list, range or iteration, nested ones counted
    max_digits: int = 100_000  # decimal digits of one integer
    max_format_spec: int = 1_000  # characters of a format specification or strftime pattern


class ScriptLimitExceeded(Exception):
    """A script was stopped because it would exceed a limit (time, memory or size)."""


class ScriptTimeout(ScriptLimitExceeded):
    """A script ran longer than the sandbox allows."""


class ScriptTooLarge(ScriptLimitExceeded):
    """A script would build a value larger than the sandbox allows."""


class ScriptMemoryExceeded(ScriptLimitExceeded):
    """A script made the process grow by more memory than the sandbox allows."""


class ScriptRefused(Exception):
    """A script called something the sandbox does not offer."""


# -- the running evaluation ---------------------------------------------------------------

_MEMORY_EVERY = 32  # trace events between two looks at the resident memory
_BIG_ALLOCATION = 4 << 20  # bytes a guard lets through before the memory is looked at


class _Run:
    """The deadline and memory baseline of one evaluation."""

    __slots__ = ("limits", "deadline", "baseline", "pending", "events")

    def __init__(self, limits: ScriptLimits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.time
        self.baseline: int | None = None
        self.pending = 0
        self.events = 0

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise ScriptTimeout(f"script stopped: it ran for more than {self.limits.time:g} s (time limit)")

    def check_memory(self) -> None:
        self.pending = 0
        current = _resident_bytes()
        if current is None:
            return
        if self.baseline is None:
            self.baseline = current
            return
        grown = current - self.baseline
        if grown > self.limits.memory_mb << 20:
            raise ScriptMemoryExceeded(
                f"script stopped: it used {grown >> 20:,} MB of memory (limit {self.limits.memory_mb:,} MB)"
            )

    def allocating(self, size: int) -> None:
        """Called by guards before building `size` bytes: look at the memory once enough is pending."""
        if self.baseline is None and size >= _BIG_ALLOCATION:
            self.check_memory()  # the baseline, taken before the first large value is built
        self.pending += size
        if self.pending >= _BIG_ALLOCATION:
            self.check_memory()


_current: ContextVar[_Run | None] = ContextVar("gol_script_run", default=None)
_DEFAULT_LIMITS = ScriptLimits()

_statm: tuple[int, int] | None = None  # (pid, fd): /proc/self resolves to the pid that opened it
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _resident_bytes() -> int | None:
    """The process's resident memory, read cheaply from /proc (None where there is no /proc)."""
    global _statm
    pid = os.getpid()
    if _statm is None or _statm[0] != pid:
        try:
            _statm = (pid, os.open(f"/proc/{pid}/statm", os.O_RDONLY))
        except OSError:
            return None
    try:
        return int(os.pread(_statm[1], 128, 0).split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def _run() -> _Run:
    run = _current.get()
    if run is None:  # a guard called outside an evaluation (e.g. a helper in a test)
        run = _Run(_DEFAULT_LIMITS)
    return run


def run_bounded(run: Callable[[], Any], limits: ScriptLimits, trace: bool) -> Any:
    """Run compiled BPMN code under `limits`; `trace` stops loops at the deadline and watches memory."""
    state = _Run(limits)
    token = _current.set(state)
    try:
        if not trace:
            return run()
        state.check_memory()

        def local_trace(frame: FrameType, event: str, arg: Any) -> Any:
            if event == "line":
                state.check_time()
                state.events += 1
                if state.events % _MEMORY_EVERY == 0:
                    state.check_memory()
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
    finally:
        _current.reset(token)


# -- sizes ---------------------------------------------------------------------------------

_CONTAINERS = (list, tuple, set, frozenset, dict)
# Values of bounded size when printed; an int is counted by its digits (see measure).
_SCALARS = frozenset({float, bool, type(None), complex, date, datetime, day_time, timedelta, range})
_SMALL_INT_BITS = 64


def _too_large(what: str, size: int, limit: int, unit: str, action: str = "build") -> ScriptTooLarge:
    return ScriptTooLarge(f"script stopped: it would {action} {what} of {size:,} {unit} (limit {limit:,})")


def _string_too_large(size: int, limit: int) -> ScriptTooLarge:
    return _too_large("a string", size, limit, "characters")


def check_string(size: int) -> None:
    """Refuse a string (or bytes) of `size` characters before it is built."""
    run = _run()
    if size > run.limits.max_string:
        raise _string_too_large(size, run.limits.max_string)
    run.allocating(size)


def check_items(size: int, what: str = "a list", action: str = "build") -> None:
    """Refuse a collection of `size` elements before it is built (or searched, `action`)."""
    run = _run()
    if size > run.limits.max_items:
        raise _too_large(what, size, run.limits.max_items, "items", action)
    run.allocating(size * 8)


def _int_digits(bits: int) -> int:
    return int(bits * 0.30103) + 1


def check_int_bits(bits: int) -> None:
    """Refuse an integer of about `bits` bits before it is computed."""
    check_int_digits(_int_digits(bits))


def check_int_digits(digits: int) -> None:
    """Refuse an integer of `digits` decimal digits before it is computed."""
    limits = _run().limits
    if digits > limits.max_digits:
        raise _too_large("a number", digits, limits.max_digits, "digits")


def measure(value: Any) -> tuple[int, int]:
    """(elements, characters) of a value, nested and shared ones counted each time they appear.

    Stops as soon as either is over its limit: a list holding the same big list a million
    times is small in memory but not when printed, compared or stored.
    """
    limits = _run().limits
    items = chars = 0
    stack = [value]
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind in _SCALARS:
            continue
        if kind is int:
            if current.bit_length() > _SMALL_INT_BITS:  # printed, a big number is a long string
                chars += _int_digits(current.bit_length())
                if chars > limits.max_string:
                    raise _string_too_large(chars, limits.max_string)
            continue
        if kind is str or kind is bytes or kind is bytearray:
            chars += len(current)
            if chars > limits.max_string:
                raise _string_too_large(chars, limits.max_string)
            continue
        if isinstance(current, _CONTAINERS):
            items += len(current)
            if items > limits.max_items:
                raise _too_large("a collection", items, limits.max_items, "items (nested ones included)")
            if isinstance(current, dict):
                stack.extend(current.keys())
                stack.extend(current.values())
            else:
                stack.extend(current)
    return items, chars


def check_value(value: Any) -> Any:
    """`value` itself, once it is known not to be over the limits when nested values are counted."""
    if type(value) in _SCALARS or type(value) is str or type(value) is int:
        return value
    measure(value)
    return value


_MEMORY_ITEMS = 1 << 16  # items a checked iteration pulls between two looks at the memory


def checked_iter(iterable: Iterable[Any], what: str | None = None) -> Iterator[Any]:
    """Iterate in Python so that C-level consumers (sum, sorted, join...) stay within the limits.

    Every item is checked against the deadline (in batches) and the memory now and then; when
    the iteration builds something (`what`), its items, nested ones included, are capped too.
    """
    run = _run()
    limits = run.limits
    items = chars = 0
    for item in iterable:
        items += 1
        if what is not None:
            if type(item) not in _SCALARS and (type(item) is not int or item.bit_length() > _SMALL_INT_BITS):
                inner_items, inner_chars = measure(item)
                items += inner_items
                chars += inner_chars
                if chars > limits.max_string:
                    raise _string_too_large(chars, limits.max_string)
            if items > limits.max_items:
                raise _too_large(what, items, limits.max_items, "items (nested ones included)")
        if items & 63 == 0:
            run.check_time()
            if items & (_MEMORY_ITEMS - 1) == 0:
                run.check_memory()
        yield item
    run.check_time()


_SIZED = (list, tuple, range, set, frozenset, dict, str, bytes)


def materialise(iterable: Iterable[Any], what: str = "a list") -> list[Any]:
    """A list of the items of `iterable`, refused when it would be over the limits."""
    if isinstance(iterable, _SIZED):
        check_items(len(iterable), what)
    return builtins.list(checked_iter(iterable, what))


# -- operators -----------------------------------------------------------------------------

_SEQUENCES = (list, tuple)
_TEXT = (str, bytes, bytearray)


def _repeat(seq: Any, times: Any) -> None:
    if not isinstance(times, int) or times <= 0:
        return
    if isinstance(seq, _TEXT):
        check_string(len(seq) * times)
    elif isinstance(seq, _SEQUENCES):
        inner_items, inner_chars = measure(seq)
        check_items(builtins.max(inner_items, 1) * times)
        if inner_chars:
            check_string(inner_chars * times)


def guarded_mult(left: Any, right: Any) -> Any:
    """`left * right`, refused when the result would be over the limits."""
    if isinstance(left, int) and isinstance(right, int):
        check_int_bits(left.bit_length() + right.bit_length())
    elif isinstance(left, (*_TEXT, *_SEQUENCES)):
        _repeat(left, right)
    elif isinstance(right, (*_TEXT, *_SEQUENCES)):
        _repeat(right, left)
    return left * right


def guarded_pow(left: Any, right: Any, modulo: Any = None) -> Any:
    """`left ** right` (or pow with a modulo), refused when the result would be over the limits."""
    if modulo is not None:
        for number in (left, right, modulo):
            if isinstance(number, int):
                check_int_bits(number.bit_length())
        if isinstance(right, int) and isinstance(modulo, int) and right.bit_length() * modulo.bit_length() > 1 << 24:
            raise _too_large("a modular power", right.bit_length() * modulo.bit_length(), 1 << 24, "bit operations")
        return builtins.pow(left, right, modulo)
    if isinstance(left, int) and isinstance(right, int) and right > 0 and builtins.abs(left) > 1:
        check_int_digits(int(right * math.log10(builtins.abs(left))) + 1)
    return left**right


def guarded_lshift(left: Any, right: Any) -> Any:
    """`left << right`, refused when the result would be over the limits."""
    if isinstance(left, int) and isinstance(right, int) and left and right > 0:
        check_int_bits(left.bit_length() + right)
    return left << right


def guarded_add(left: Any, right: Any) -> Any:
    """`left + right`, refused when a concatenation would be over the limits."""
    if isinstance(left, _TEXT) and isinstance(right, _TEXT):
        check_string(len(left) + len(right))
    elif isinstance(left, tuple) and isinstance(right, tuple):
        check_value((left, right))  # hashable, so nested elements count: see visit_Tuple
    elif isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        check_items(len(left) + len(right))
    return left + right


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[diouxXeEfFgGcrsab%]")


def _check_spec_numbers(spec: str) -> None:
    limits = _run().limits
    if len(spec) > limits.max_format_spec:
        raise _too_large("a format specification", len(spec), limits.max_format_spec, "characters", "use")
    for number in re.findall(r"\d+", spec):
        if len(number) > 9 or int(number) > limits.max_string:
            raise _string_too_large(int(number), limits.max_string)


def guarded_mod(left: Any, right: Any) -> Any:
    """`left % right`: %-formatting with a width or argument too large is refused."""
    if isinstance(left, (str, bytes)):
        text = left if isinstance(left, str) else left.decode("latin-1")
        limits = _run().limits
        for width, precision in _PERCENT_SPEC.findall(text):
            for number in (width, precision):
                if number.isdigit() and (len(number) > 9 or int(number) > limits.max_string):
                    raise _string_too_large(int(number[:12]), limits.max_string)
        args = right if isinstance(right, tuple) else (right,)
        for arg in args:
            if isinstance(arg, int) and not isinstance(arg, bool) and arg > limits.max_string and "*" in text:
                raise _string_too_large(arg, limits.max_string)
        check_value(right)
        result = left % right
        check_string(len(result))
        return result
    return left % right


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "*": guarded_mult,
    "**": guarded_pow,
    "<<": guarded_lshift,
    "+": guarded_add,
    "%": guarded_mod,
}


def guarded_binop(op: str, left: Any, right: Any) -> Any:
    """A binary operator the sandbox routes through a size check."""
    return _BINARY[op](left, right)


_INPLACE_GUARDED: dict[str, Callable[[Any, Any], Any]] = {
    "+=": guarded_add,
    "*=": guarded_mult,
    "**=": guarded_pow,
    "<<=": guarded_lshift,
    "%=": guarded_mod,
}
_INPLACE_PLAIN: dict[str, Callable[[Any, Any], Any]] = {
    "-=": operator.isub,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "|=": operator.ior,
    "&=": operator.iand,
    "^=": operator.ixor,
    ">>=": operator.irshift,
}


def guarded_inplace(op: str, target: Any, value: Any) -> Any:
    """`target op= value` (names only: RestrictedPython refuses it on attributes and items)."""
    if op == "+=" and isinstance(target, list) and not isinstance(value, _SEQUENCES):
        value = materialise(value)
    guarded = _INPLACE_GUARDED.get(op)
    if guarded is not None:
        if isinstance(target, list) and op in ("+=", "*="):
            guarded(target, value)  # checks only; the in-place operator keeps the list's identity
            return operator.iadd(target, value) if op == "+=" else operator.imul(target, value)
        return guarded(target, value)
    plain = _INPLACE_PLAIN.get(op)
    if plain is None:
        raise ScriptRefused(f"operator {op} is not allowed in scripts")
    if op == "|=" and isinstance(target, (set, dict)) and isinstance(value, (set, frozenset, dict)):
        check_items(len(target) + len(value), "a collection")
    return plain(target, value)


def guarded_format(value: Any, conversion: int, spec: str) -> str:
    """One `{value!conversion:spec}` of an f-string, refused when the text would be over the limits."""
    check_value(value)
    if conversion == ord("r"):
        value = builtins.repr(value)
    elif conversion == ord("s"):
        value = builtins.str(value)
    elif conversion == ord("a"):
        value = builtins.ascii(value)
    if spec:
        _check_spec_numbers(spec)
    result = builtins.format(value, spec)
    check_string(len(result))
    return result


def compared(value: Any) -> Any:
    """An operand of a comparison: nested structures are compared element by element in C."""
    if type(value) in _SCALARS or type(value) is str or type(value) is int:
        return value
    return check_value(value)


def compared_container(value: Any) -> Any:
    """The right side of `in`: a set or dict is searched by hash, not element by element."""
    if isinstance(value, (set, frozenset, dict)):
        return value
    if isinstance(value, range):
        check_items(len(value), "a range", "search")  # only int lookups are O(1)
        return value
    return compared(value)


def check_result(value: Any) -> Any:
    """What an evaluation gives back must fit within the limits once stored."""
    return check_value(value)

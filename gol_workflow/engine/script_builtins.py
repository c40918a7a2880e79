"""The builtins and methods BPMN code may call, each bounded by the limits of `limits.py`.

Builtins that consume an iterable pull it through `checked_iter` (so `sum`, `sorted`,
`''.join` over something huge stop at the item limit or the deadline instead of looping
in C); builtins and methods that take a size (`range`, `bytes(n)`, `str.ljust`, ...) check
it first. Methods of the built-in types are allowed by name: anything else is refused.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from datetime import time as day_time
from typing import Any

from RestrictedPython.Guards import safer_getattr

from .limits import (
    _SIZED,
    ScriptRefused,
    _run,
    _too_large,
    check_items,
    check_string,
    check_value,
    checked_iter,
    guarded_add,
    guarded_pow,
    materialise,
)

_NO_DEFAULT = object()


def _sum(iterable: Iterable[Any], start: Any = 0) -> Any:
    if isinstance(start, (int, float)) and not isinstance(start, bool):
        return builtins.sum(checked_iter(iterable), start)
    total = start
    for item in checked_iter(iterable):
        total = guarded_add(total, item)
    return total


def _min_max(function: Callable[..., Any]) -> Callable[..., Any]:
    def bounded(*args: Any, **kwargs: Any) -> Any:
        if len(args) == 1:
            return function(materialise(args[0]), **kwargs)
        return function(*materialise(args), **kwargs)

    bounded.__name__ = function.__name__
    return bounded


def _sorted(iterable: Iterable[Any], /, *, key: Any = None, reverse: bool = False) -> list[Any]:
    return builtins.sorted(materialise(iterable), key=key, reverse=reverse)


def _collection(kind: type) -> Callable[..., Any]:
    def bounded(iterable: Iterable[Any] = (), /) -> Any:
        return kind(materialise(iterable))

    bounded.__name__ = kind.__name__
    return bounded


def _dict(*args: Any, **kwargs: Any) -> dict[Any, Any]:
    if args and not isinstance(args[0], dict):
        args = (materialise(args[0], "a dict"), *args[1:])
    return builtins.dict(*args, **kwargs)


def _lazy(function: Callable[..., Any], first_iterable: int) -> Callable[..., Any]:
    def bounded(*args: Any, **kwargs: Any) -> Any:
        head, tail = args[:first_iterable], args[first_iterable:]
        return function(*head, *(checked_iter(item) for item in tail), **kwargs)

    bounded.__name__ = function.__name__
    return bounded


def _zip(*iterables: Iterable[Any], **kwargs: Any) -> Any:
    # zip(a, a) pairs a value with itself: each tuple it yields is measured like a tuple display.
    return builtins.map(check_value, builtins.zip(*(checked_iter(item) for item in iterables), **kwargs))


def _enumerate(iterable: Iterable[Any], start: int = 0) -> Any:
    return builtins.enumerate(checked_iter(iterable), start)


def _str(*args: Any, **kwargs: Any) -> str:
    if args:
        check_value(args[0])
    result = builtins.str(*args, **kwargs)
    check_string(len(result))
    return result


def _repr(value: Any) -> str:
    check_value(value)
    result = builtins.repr(value)
    check_string(len(result))
    return result


def _bytes(*args: Any, **kwargs: Any) -> bytes:
    if args and isinstance(args[0], int):
        check_string(args[0])
    elif args and not isinstance(args[0], (str, bytes, bytearray)):
        args = (materialise(args[0], "a bytes value"), *args[1:])
    return builtins.bytes(*args, **kwargs)


def _hash(value: Any) -> int:
    return builtins.hash(check_value(value))


def _bool_of(function: Callable[[Iterable[Any]], bool]) -> Callable[[Iterable[Any]], bool]:
    def bounded(iterable: Iterable[Any], /) -> bool:
        return function(checked_iter(iterable))

    bounded.__name__ = function.__name__
    return bounded


def bounded_builtins() -> dict[str, Any]:
    """Replacements for the builtins that could otherwise run unbounded in C."""
    return {
        "sum": _sum,
        "min": _min_max(builtins.min),
        "max": _min_max(builtins.max),
        "sorted": _sorted,
        "list": _collection(list),
        "tuple": _collection(tuple),
        "set": _collection(set),
        "frozenset": _collection(frozenset),
        "dict": _dict,
        "map": _lazy(builtins.map, 1),
        "filter": _lazy(builtins.filter, 1),
        "zip": _zip,
        "enumerate": _enumerate,
        "all": _bool_of(builtins.all),
        "any": _bool_of(builtins.any),
        "str": _str,
        "repr": _repr,
        "bytes": _bytes,
        "pow": guarded_pow,
        "hash": _hash,
    }


# -- methods -------------------------------------------------------------------------------


def _width(method: Callable[..., Any]) -> Callable[..., Any]:
    def bounded(width: Any, *args: Any) -> Any:
        if isinstance(width, int):
            check_string(width)
        return method(width, *args)

    return bounded


def _expandtabs(text: Any) -> Callable[..., Any]:
    def bounded(tabsize: int = 8) -> Any:
        tab = "\t" if isinstance(text, str) else b"\t"
        check_string(len(text) + text.count(tab) * builtins.max(int(tabsize), 0))
        return text.expandtabs(tabsize)

    return bounded


def _replace(text: Any) -> Callable[..., Any]:
    def bounded(old: Any, new: Any, count: int = -1) -> Any:
        found = len(text) + 1 if not old else text.count(old)
        if count is not None and count >= 0:
            found = builtins.min(found, count)
        check_string(len(text) + found * builtins.max(len(new) - len(old), 0))
        return text.replace(old, new, count)

    return bounded


def _join(separator: Any) -> Callable[..., Any]:
    def bounded(iterable: Iterable[Any], /) -> Any:
        parts = materialise(iterable)
        size = builtins.sum(len(part) for part in parts if isinstance(part, (str, bytes, bytearray)))
        check_string(size + len(separator) * builtins.max(len(parts) - 1, 0))
        return separator.join(parts)

    return bounded


def _translate(text: Any) -> Callable[..., Any]:
    def bounded(table: Any, *args: Any) -> Any:
        longest = 1
        if isinstance(table, dict):
            longest = builtins.max((len(v) for v in table.values() if isinstance(v, str)), default=1)
        check_string(len(text) * builtins.max(longest, 1))
        return text.translate(table, *args)

    return bounded


def _to_bytes(number: int) -> Callable[..., Any]:
    def bounded(length: int = 1, *args: Any, **kwargs: Any) -> bytes:
        check_string(length)
        return number.to_bytes(length, *args, **kwargs)

    return bounded


def _strftime(moment: Any) -> Callable[[str], str]:
    def bounded(pattern: str) -> str:
        limit = _run().limits.max_format_spec
        if len(pattern) > limit:
            raise _too_large("a date format", len(pattern), limit, "characters", "use")
        return moment.strftime(pattern)

    return bounded


def _extending(method_name: str) -> Callable[[Any], Callable[..., Any]]:
    def wrap(target: Any) -> Callable[..., Any]:
        method = getattr(target, method_name)

        def bounded(*others: Any) -> Any:
            known = builtins.sum(len(other) for other in others if isinstance(other, _SIZED))
            check_items(len(target) + known, "a collection")  # before copying anything
            materialised = [
                other if isinstance(other, (dict, set, frozenset, list, tuple)) else materialise(other)
                for other in others
            ]
            check_items(len(target) + builtins.sum(len(other) for other in materialised), "a collection")
            return method(*materialised)

        return bounded

    return wrap


def _comparing(method_name: str) -> Callable[[list[Any]], Callable[..., Any]]:
    """List methods that compare elements in C: the list is measured first, nested elements counted."""

    def wrap(target: list[Any]) -> Callable[..., Any]:
        method = getattr(target, method_name)

        def bounded(*args: Any, **kwargs: Any) -> Any:
            check_value(target)
            for arg in args:
                check_value(arg)
            return method(*args, **kwargs)

        return bounded

    return wrap


def _range_search(method_name: str) -> Callable[[range], Callable[[Any], int]]:
    def wrap(numbers: range) -> Callable[[Any], int]:
        def bounded(value: Any) -> int:
            if type(value) is not int:  # only an int is found arithmetically; anything else is a scan
                check_items(len(numbers), "a range", "search")
            return int(getattr(numbers, method_name)(value))

        return bounded

    return wrap


def _dict_update(target: dict[Any, Any]) -> Callable[..., None]:
    def bounded(*args: Any, **kwargs: Any) -> None:
        if args and not isinstance(args[0], dict):
            args = (materialise(args[0], "a dict"),)
        extra = len(args[0]) if args else 0
        check_items(len(target) + extra + len(kwargs), "a dict")
        target.update(*args, **kwargs)

    return bounded


_TEXT_GUARDS: dict[str, Callable[[Any], Callable[..., Any]]] = {
    "ljust": lambda text: _width(text.ljust),
    "rjust": lambda text: _width(text.rjust),
    "center": lambda text: _width(text.center),
    "zfill": lambda text: _width(text.zfill),
    "expandtabs": _expandtabs,
    "replace": _replace,
    "join": _join,
    "translate": _translate,
}

_STR_METHODS = frozenset(
    """capitalize casefold center count encode endswith expandtabs find index isalnum isalpha
    isascii isdecimal isdigit isidentifier islower isnumeric isprintable isspace istitle isupper
    join ljust lower lstrip partition removeprefix removesuffix replace rfind rindex rjust
    rpartition rsplit rstrip split splitlines startswith strip swapcase title translate upper
    zfill maketrans""".split()
)
_BYTES_METHODS = (_STR_METHODS - {"encode", "casefold", "isidentifier", "isdecimal", "isnumeric", "isprintable"}) | {
    "decode",
    "hex",
}
_GUARDS: dict[type, dict[str, Callable[[Any], Callable[..., Any]]]] = {
    str: _TEXT_GUARDS,
    bytes: _TEXT_GUARDS,
    int: {"to_bytes": _to_bytes},
    bool: {"to_bytes": _to_bytes},
    list: {"extend": _extending("extend"), **{name: _comparing(name) for name in ("sort", "index", "count", "remove")}},
    set: {name: _extending(name) for name in ("update", "union", "intersection", "difference",
                                                "symmetric_difference", "intersection_update",
                                                "difference_update", "symmetric_difference_update",
                                                "issubset", "issuperset", "isdisjoint")},
    frozenset: {name: _extending(name) for name in ("union", "intersection", "difference",
                                                      "symmetric_difference", "issubset", "issuperset",
                                                      "isdisjoint")},
    dict: {"update": _dict_update},
    date: {"strftime": _strftime},
    datetime: {"strftime": _strftime},
    day_time: {"strftime": _strftime},
    range: {"count": _range_search("count"), "index": _range_search("index")},
}
_METHODS: dict[type, frozenset[str]] = {
    str: _STR_METHODS,
    bytes: frozenset(_BYTES_METHODS),
    int: frozenset("bit_length bit_count conjugate to_bytes as_integer_ratio is_integer".split()),
    bool: frozenset("bit_length bit_count conjugate to_bytes as_integer_ratio".split()),
    float: frozenset("as_integer_ratio conjugate hex is_integer".split()),
    list: frozenset("append clear copy count extend index insert pop remove reverse sort".split()),
    tuple: frozenset("count index".split()),
    dict: frozenset("clear copy get items keys pop popitem setdefault update values".split()),
    set: frozenset(
        """add clear copy difference difference_update discard intersection intersection_update
        isdisjoint issubset issuperset pop remove symmetric_difference symmetric_difference_update
        union update""".split()
    ),
    frozenset: frozenset("copy difference intersection isdisjoint issubset issuperset symmetric_difference union".split()),
    date: frozenset(
        "ctime isocalendar isoformat isoweekday replace strftime timetuple toordinal weekday".split()
    ),
    datetime: frozenset(
        """astimezone ctime date dst isocalendar isoformat isoweekday replace strftime time
        timestamp timetuple timetz toordinal tzname utcoffset utctimetuple weekday""".split()
    ),
    day_time: frozenset("dst isoformat replace strftime tzname utcoffset".split()),
    timedelta: frozenset(["total_seconds"]),
    range: frozenset("count index".split()),
}


def guarded_getattr(obj: Any, name: str, default: Any = _NO_DEFAULT) -> Any:
    """Attribute access from BPMN code: RestrictedPython's checks, then bounded methods of built-in types."""
    value = safer_getattr(obj, name) if default is _NO_DEFAULT else safer_getattr(obj, name, default)
    # A subclass of a built-in type (the clocked datetime) is bounded as its base is.
    kind = next((k for k in type(obj).__mro__ if k in _METHODS), type(obj))
    if isinstance(obj, type) and name in _GUARDS.get(next((k for k in obj.__mro__ if k in _GUARDS), obj), {}):
        raise ScriptRefused(f"{obj.__name__}.{name}() is only available on a value, e.g. text.{name}(...)")
    allowed = _METHODS.get(kind)
    if allowed is None or not callable(value):
        return value
    if name not in allowed:
        raise ScriptRefused(f"{kind.__name__}.{name}() is not available in scripts")
    guard = _GUARDS.get(kind, {}).get(name)
    return guard(obj) if guard is not None else value


__all__ = ["bounded_builtins", "guarded_getattr"]

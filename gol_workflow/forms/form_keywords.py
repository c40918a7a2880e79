"""Checks of the service's own form keywords (`x-rules`, `x-prefill`, `x-copy-from-previous`) at deploy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from . import cross_rules

PREFILL_SOURCES = ("case",)


def _properties(schema: Mapping[str, Any], path: list[Any]) -> Iterable[tuple[list[Any], Mapping[str, Any]]]:
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, Mapping):
            yield path + ["properties", name], prop
            yield from _properties(prop, path + ["properties", name])
            items = prop.get("items")
            if isinstance(items, Mapping):
                yield from _properties(items, path + ["properties", name, "items"])


def keyword_problems(schema: Mapping[str, Any]) -> list[tuple[list[Any], str]]:
    """(JSON path, message) for every misused service keyword of a form."""
    found = cross_rules.declaration_problems(schema)
    copy = schema.get("x-copy-from-previous")
    if copy is not None and not isinstance(copy, (bool, str)):
        found.append((["x-copy-from-previous"], "x-copy-from-previous is true or the button's label"))
    for path, prop in _properties(schema, []):
        source = prop.get("x-prefill")
        if source is not None and source not in PREFILL_SOURCES:
            found.append((path + ["x-prefill"], f"unknown x-prefill {source!r}; known: {', '.join(PREFILL_SOURCES)}"))
        elif source is not None and len(path) != 2:
            found.append((path + ["x-prefill"], "x-prefill applies to the form's own (top-level) fields"))
    return found

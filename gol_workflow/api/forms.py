"""A task's JSON Schema as API clients receive it: `x-options` fields carry the caller's choices."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

Options = Mapping[str, list[tuple[str, str]]]


def with_choices(schema: Mapping[str, Any] | None, options: Options) -> dict[str, Any] | None:
    """A copy of the form where every `x-options` field lists its choices as `oneOf` [{const, title}].

    The choices are those the server will accept from this caller now (zones, case managers,
    free ATS slots...); a field with no possible choice gets an empty `enum`.
    """
    if schema is None:
        return None
    resolved = copy.deepcopy(dict(schema))
    _fill(resolved, options)
    return resolved


def _fill(node: Any, options: Options) -> None:
    if not isinstance(node, dict):
        return
    source = node.get("x-options")
    if isinstance(source, str):
        choices = options.get(source, [])
        node.pop("enum", None)
        if choices:
            node["oneOf"] = [{"const": value, "title": label} for value, label in choices]
        else:
            node["enum"] = []
    for child in (node.get("properties") or {}).values():
        _fill(child, options)
    if isinstance(node.get("items"), dict):
        _fill(node["items"], options)

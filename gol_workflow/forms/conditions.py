"""Which fields of a form apply, derived from the form's own JSON Schema conditionals.

A field named in `then.required` of an `if` on another field's answer (and not required
by the object itself) applies only when that answer is given:

    "allOf": [{"if": {"properties": {"esito": {"const": "occupato"}}, "required": ["esito"]},
               "then": {"required": ["tipo_contratto"]}}]

`const` or `enum` in the `if` name the answers; several `if`s naming one field are
alternatives. `dependentRequired: {"a": ["b"]}` makes `b` apply once `a` is filled in.
The renderer shows the condition, the validation explains a missing field with it, and
the values of fields that do not apply are left out of what is recorded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import rendering

ANY_VALUE: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Condition:
    """`field` (a sibling) holds one of `values` (any value when empty)."""

    field: str
    values: tuple[Any, ...]

    def holds(self, data: Mapping[str, Any]) -> bool:
        """True when the sibling's answer is one of the values."""
        if self.field not in data or data[self.field] in (None, "", []):
            return False
        if not self.values:
            return True
        answer = data[self.field]
        answers = answer if isinstance(answer, list) else [answer]
        return any(_same(a, v) for a in answers for v in self.values)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def parse_if(schema: Any) -> Condition | None:
    """The condition of an `if` on one sibling's answer, or None for shapes the service does not derive."""
    if not isinstance(schema, Mapping):
        return None
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or len(properties) != 1:
        return None
    (name, test), = properties.items()
    if name not in (schema.get("required") or []) or not isinstance(test, Mapping):
        return None
    if "const" in test:
        return Condition(name, (test["const"],))
    if isinstance(test.get("enum"), list) and test["enum"]:
        return Condition(name, tuple(test["enum"]))
    contains = test.get("contains")
    if isinstance(contains, Mapping) and "const" in contains:
        return Condition(name, (contains["const"],))
    return None


def _branches(schema: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield schema
    for item in schema.get("allOf") or []:
        if isinstance(item, Mapping):
            yield item


def conditional_fields(schema: Mapping[str, Any]) -> dict[str, list[Condition]]:
    """{field: conditions, any of which makes it apply} for one object schema's own properties."""
    return {name: list(found) for name, found in _conditional(schema).items()}


_DERIVED: dict[int, tuple[Mapping[str, Any], dict[str, tuple[Condition, ...]]]] = {}


def _conditional(schema: Mapping[str, Any]) -> dict[str, tuple[Condition, ...]]:
    """`conditional_fields`, derived once per schema object (forms live as long as their process version)."""
    cached = _DERIVED.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    required = set(schema.get("required") or [])
    properties = schema.get("properties") or {}
    found: dict[str, list[Condition]] = {}
    for branch in _branches(schema):
        condition = parse_if(branch.get("if"))
        then = branch.get("then")
        if condition is not None and isinstance(then, Mapping):
            for name in then.get("required") or []:
                if name in properties and name not in required and name != condition.field:
                    found.setdefault(name, []).append(condition)
        for trigger, names in (branch.get("dependentRequired") or {}).items():
            for name in names:
                if name in properties and name not in required:
                    found.setdefault(name, []).append(Condition(trigger, ANY_VALUE))
    derived = {name: tuple(conditions) for name, conditions in found.items()}
    if len(_DERIVED) > 1024:
        _DERIVED.clear()
    _DERIVED[id(schema)] = (schema, derived)
    return derived


def applies(conditions: Sequence[Condition], data: Mapping[str, Any]) -> bool:
    """True when the field has no condition or one of them holds."""
    return not conditions or any(c.holds(data) for c in conditions)


def inapplicable(schema: Mapping[str, Any], data: Mapping[str, Any]) -> list[str]:
    """Top-level fields of `data` whose conditions do not hold (a field hidden by a hidden field is hidden too)."""
    conditions = _conditional(schema)
    if not conditions:
        return []
    current = dict(data)
    dropped: list[str] = []
    changed = True
    while changed:
        changed = False
        for name, found in conditions.items():
            if name in current and not applies(found, current):
                current.pop(name)
                dropped.append(name)
                changed = True
    return dropped


def without_inapplicable(schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """The data without the values of fields that do not apply, at every level of nesting."""
    properties = schema.get("properties") or {}
    dropped = set(inapplicable(schema, data))
    result = {k: v for k, v in data.items() if k not in dropped}
    for name, value in list(result.items()):
        prop = properties.get(name)
        if not isinstance(prop, Mapping):
            continue
        if isinstance(value, Mapping) and isinstance(prop.get("properties"), Mapping):
            result[name] = without_inapplicable(prop, value)
        elif isinstance(value, list) and isinstance(prop.get("items"), Mapping) and prop["items"].get("properties"):
            result[name] = [without_inapplicable(prop["items"], row) if isinstance(row, Mapping) else row
                            for row in value]
    return result


def label_of_value(prop: Any, value: Any) -> str:
    """The label an operator reads for one answer of a field."""
    if isinstance(value, bool):
        return "Sì" if value else "No"
    options = rendering.static_options(prop) if isinstance(prop, Mapping) else None
    if options is None and isinstance(prop, Mapping) and isinstance(prop.get("items"), Mapping):
        options = rendering.static_options(prop["items"])
    shown = rendering.display_value(value)
    return dict(options or []).get(shown, shown)


def describe(condition: Condition, schema: Mapping[str, Any]) -> tuple[str, str]:
    """(the sibling's label, the answers' labels joined with «o») for Italian sentences."""
    prop = (schema.get("properties") or {}).get(condition.field) or {}
    title = str(prop.get("title") or condition.field) if isinstance(prop, Mapping) else condition.field
    answers = " o ".join(f"«{label_of_value(prop, v)}»" for v in condition.values)
    return title, answers


def hint(conditions: Sequence[Condition], schema: Mapping[str, Any]) -> str:
    """«Da compilare solo se …», the sentence shown next to a conditional field."""
    parts = []
    for condition in conditions:
        title, answers = describe(condition, schema)
        parts.append(f"«{title}» è {answers}" if condition.values else f"è compilato «{title}»")
    return "Da compilare solo se " + " oppure ".join(parts) + "."


def required_because(root: Mapping[str, Any], schema_path: Sequence[Any]) -> str | None:
    """Why a `required` error of a `then` arose, as an Italian sentence (None for other errors)."""
    path = list(schema_path)
    node: Any = root
    parents: list[Any] = []
    for part in path[:-1]:
        parents.append(node)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    if len(path) >= 2 and path[-2] == "then" and len(parents) >= 1:
        branch = parents[-1]
        condition = parse_if(branch.get("if")) if isinstance(branch, Mapping) else None
        owner = _owner(root, path[:-2])
        if condition is None or owner is None:
            return None
        title, answers = describe(condition, owner)
        return f"Obbligatorio perché hai indicato {answers} in «{title}»."
    return None


def _owner(root: Mapping[str, Any], path: Sequence[Any]) -> Mapping[str, Any] | None:
    """The object schema that holds the conditional at `path` (its `allOf` item or itself)."""
    trimmed = list(path)
    if len(trimmed) >= 2 and trimmed[-2] == "allOf":
        trimmed = trimmed[:-2]
    node: Any = root
    for part in trimmed:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node if isinstance(node, Mapping) else None


def why_required(root: Mapping[str, Any], error: Any) -> str | None:
    """The Italian reason of a conditional `required` (or `dependentRequired`) validation error."""
    if error.validator == "required":
        return required_because(root, list(error.absolute_schema_path))
    if error.validator == "dependentRequired":
        found = re.findall(r"is a dependency of '([^']+)'", error.message)
        owner = _owner(root, list(error.absolute_schema_path)[:-1])
        prop = ((owner or {}).get("properties") or {}).get(found[0]) if found else None
        title = prop.get("title") if isinstance(prop, Mapping) else None
        return f"Obbligatorio perché hai compilato «{title or found[0]}»." if found else None
    return None

"""From a form's JSON Schema to field models a template can render, with values and errors in place."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import conditions as _conditions

Options = list[tuple[str, str]]

RADIO_MAX = 4
CHECKBOX_MAX = 10
TEXTAREA_MIN_LENGTH = 300


@dataclass
class Field:
    """One input (or a fieldset/repeating group of inputs) as the template draws it."""

    name: str  # the submitted name and the validation path, e.g. "familiari.0.nome"
    label: str
    widget: str  # text textarea number integer date datetime email select radio boolean checkbox checkboxes multiselect fieldset group readonly
    required: bool = False
    help: str | None = None
    value: Any = None
    errors: list[str] = field(default_factory=list)
    options: Options = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    children: list[Field] = field(default_factory=list)  # a fieldset's fields
    rows: list[list[Field]] = field(default_factory=list)  # a repeating group's rows
    item_label: str = "Riga"
    shown_if: list[tuple[str, list[str]]] = field(default_factory=list)  # (field name, answers): shown when any holds
    condition: str | None = None  # "Da compilare solo se …"

    @property
    def id(self) -> str:
        """An HTML id derived from the name."""
        return "campo-" + self.name.replace(".", "-")

    @property
    def text(self) -> str:
        """The value as the input shows it."""
        return display_value(self.value)

    @property
    def selected(self) -> set[str]:
        """Values selected in a select, radio or multi-select."""
        values = self.value if isinstance(self.value, list) else [self.value]
        return {display_value(v) for v in values if v is not None}

    def error_count(self) -> int:
        """Errors of this field and everything inside it."""
        inner = sum(f.error_count() for f in self.children) + sum(f.error_count() for row in self.rows for f in row)
        return len(self.errors) + inner


def display_value(value: Any) -> str:
    """Typed JSON to the text of an input."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def static_options(schema: Mapping[str, Any]) -> Options | None:
    """Choices written in the schema: `oneOf`/`anyOf` of `const`+`title`, or `enum` with labels."""
    for key in ("oneOf", "anyOf"):
        variants = schema.get(key)
        if isinstance(variants, list) and variants and all(isinstance(v, Mapping) and "const" in v for v in variants):
            return [(display_value(v["const"]), str(v.get("title", v["const"]))) for v in variants]
    if isinstance(schema.get("enum"), list):
        labels = schema.get("x-enumNames") or schema.get("enumNames") or schema.get("x-labels")
        values = [v for v in schema["enum"] if v is not None]
        if isinstance(labels, Mapping):
            return [(display_value(v), str(labels.get(display_value(v), v))) for v in values]
        if isinstance(labels, list) and len(labels) == len(schema["enum"]):
            pairs = zip(schema["enum"], labels, strict=True)
            return [(display_value(v), str(label)) for v, label in pairs if v is not None]
        return [(display_value(v), _humanise(v)) for v in values]
    return None


def _humanise(value: Any) -> str:
    if isinstance(value, str):
        text = value.replace("_", " ").strip()
        return text[:1].upper() + text[1:]
    return display_value(value)


def choices(schema: Mapping[str, Any], dynamic: Mapping[str, Options]) -> Options | None:
    """Static or dynamic choices of a field, or None when it is free input."""
    source = schema.get("x-options")
    if isinstance(source, str):
        return list(dynamic.get(source, []))
    return static_options(schema)


def _kind(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return str(kind or "string")


def is_multiline(schema: Mapping[str, Any]) -> bool:
    """True for a text field shown as a textarea (line breaks belong there; everywhere else they are refused)."""
    hint = schema.get("x-widget")
    if isinstance(hint, str):
        return hint == "textarea"
    return int(schema.get("maxLength") or 0) >= TEXTAREA_MIN_LENGTH


def _widget(schema: Mapping[str, Any], options: Options | None) -> str:
    hint = schema.get("x-widget")
    if isinstance(hint, str):
        return "boolean" if hint == "radio" and _kind(schema) == "boolean" else hint
    if schema.get("readOnly"):
        return "readonly"
    kind = _kind(schema)
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), Mapping) else {}
        if _kind(items) == "object":
            return "group"
        return "checkboxes" if options is not None and len(options) <= CHECKBOX_MAX else "multiselect"
    if kind == "object":
        return "fieldset"
    if options is not None:
        return "radio" if len(options) <= RADIO_MAX and not schema.get("x-options") else "select"
    if kind == "boolean":
        return "boolean"
    if kind in ("integer", "number"):
        return kind
    fmt = schema.get("format")
    if fmt in ("date", "email"):
        return str(fmt)
    if fmt == "date-time":
        return "datetime"
    return "textarea" if is_multiline(schema) else "text"


def _attrs(schema: Mapping[str, Any], widget: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if widget in ("text", "textarea", "email") and schema.get("maxLength"):
        attrs["maxlength"] = int(schema["maxLength"])
    if widget in ("integer", "number"):
        for key, html in (("minimum", "min"), ("maximum", "max")):
            if key in schema:
                attrs[html] = schema[key]
        attrs["step"] = "1" if widget == "integer" else "any"
    if schema.get("format") == "codice-fiscale":
        attrs.update({"maxlength": 16, "autocapitalize": "characters", "spellcheck": "false", "autocomplete": "off"})
    return attrs


def build_fields(
    schema: Mapping[str, Any],
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[str]] | None = None,
    dynamic: Mapping[str, Options] | None = None,
    prefix: str = "",
) -> list[Field]:
    """The fields of an object schema, in `x-order` or declaration order."""
    values = values or {}
    errors = errors or {}
    dynamic = dynamic or {}
    properties: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    order = [k for k in schema.get("x-order", []) if k in properties] + [k for k in properties if k not in schema.get("x-order", [])]
    conditional = _conditions.conditional_fields(schema)
    fields = []
    for key in order:
        prop = properties[key]
        if not isinstance(prop, Mapping) or prop.get("x-hidden"):
            continue
        item = _field(key, prop, key in required, values.get(key), errors, dynamic, prefix)
        if key in conditional:
            item.shown_if = [(prefix + c.field, [display_value(v) for v in c.values]) for c in conditional[key]]
            item.condition = _conditions.hint(conditional[key], schema)
        fields.append(item)
    return fields


def _field(
    key: str, prop: Mapping[str, Any], required: bool, value: Any,
    errors: Mapping[str, list[str]], dynamic: Mapping[str, Options], prefix: str,
) -> Field:
    name = prefix + key
    items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
    options = choices(items if _kind(prop) == "array" else prop, dynamic)
    widget = _widget(prop, options)
    result = Field(
        name=name, label=str(prop.get("title") or _humanise(key)), widget=widget, required=required,
        help=prop.get("description"), value=value, errors=list(errors.get(name, [])), options=options or [],
        attrs=_attrs(prop, widget),
    )
    if widget == "fieldset":
        result.children = build_fields(prop, value if isinstance(value, Mapping) else {}, errors, dynamic, name + ".")
    elif widget == "group":
        result.item_label = str(items.get("title") or "Riga")
        rows: Sequence[Any] = value if isinstance(value, list) else []
        rows = list(rows) or [{}]
        result.rows = [
            build_fields(items, row if isinstance(row, Mapping) else {}, errors, dynamic, f"{name}.{index}.")
            for index, row in enumerate(rows)
        ]
    elif widget == "readonly" and options:
        labels = dict(options)
        result.value = labels.get(display_value(value), value)
    return result


def error_summary(fields: Sequence[Field]) -> list[tuple[Field, str]]:
    """(field, message) for every error, in page order: the list at the top of the form."""
    found: list[tuple[Field, str]] = []
    for item in fields:
        found.extend((item, message) for message in item.errors)
        found.extend(error_summary(item.children))
        for row in item.rows:
            found.extend(error_summary(row))
    return found

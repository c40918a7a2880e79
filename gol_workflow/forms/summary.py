"""Filled-in form data as readable label/value rows, in the form's order (for documents and print)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .rendering import display_value, static_options

Row = tuple[str, str, int]  # (label, text, depth)
EMPTY = "—"


def label_of(key: str, schema: Mapping[str, Any]) -> str:
    """A field's Italian title, or its name made readable."""
    title = schema.get("title")
    return str(title) if title else key.replace("_", " ").capitalize()


def text_of(value: Any, schema: Mapping[str, Any]) -> str:
    """One value as a person reads it: Sì/No, option labels, dates as dd/mm/yyyy."""
    if isinstance(value, bool):
        return "Sì" if value else "No"
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), Mapping) else {}
        return "; ".join(text_of(v, items) for v in value) or EMPTY
    labels = dict(static_options(schema) or [])
    text = display_value(value)
    if schema.get("format") == "date" and len(text) == 10:
        text = f"{text[8:10]}/{text[5:7]}/{text[0:4]}"
    return labels.get(text, text) or EMPTY


def rows(values: Mapping[str, Any], schema: Mapping[str, Any], depth: int = 0) -> list[Row]:
    """Rows of an object: the schema's fields first, in its order, then any other key; groups indented."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    keys = [k for k in properties if k in values] + [k for k in values if k not in properties]
    result: list[Row] = []
    for key in keys:
        prop = properties.get(key) or {}
        value = values[key]
        items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
        if isinstance(value, Mapping):
            result.append((label_of(key, prop), "", depth))
            result.extend(rows(value, prop, depth + 1))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            result.append((label_of(key, prop), "", depth))
            for index, item in enumerate(value, start=1):
                result.append((f"{items.get('title') or 'Elemento'} {index}", "", depth + 1))
                result.extend(rows(item, items, depth + 2))
        else:
            result.append((label_of(key, prop), text_of(value, prop), depth))
    return result

"""Submitted HTML form data (all strings) to the typed JSON a form's schema describes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from . import codice_fiscale
from .rendering import display_value
from .validation import DEFAULT_MAX_ROWS

_ITALIAN_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_LOCAL_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")
_TRUE = {"true", "si", "sì", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_MISSING = object()


class FormData(Protocol):
    """What a request's form offers (werkzeug's MultiDict has it)."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def getlist(self, key: str) -> list[Any]: ...

    def keys(self) -> Any: ...


def coerce(schema: Mapping[str, Any], form: FormData, timezone: str = "Europe/Rome") -> dict[str, Any]:
    """Typed data for validation; empty inputs are left out so `required` reports them."""
    return _object(schema, form, "", ZoneInfo(timezone))


def _kind(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return str(kind or "string")


def _object(schema: Mapping[str, Any], form: FormData, prefix: str, tz: ZoneInfo) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, Mapping) or prop.get("readOnly") or prop.get("x-hidden"):
            continue
        value = _value(prop, form, prefix + key, tz)
        if value is not _MISSING:
            result[key] = value
    return result


def _value(prop: Mapping[str, Any], form: FormData, name: str, tz: ZoneInfo) -> Any:
    kind = _kind(prop)
    if kind == "array":
        return _array(prop, form, name, tz)
    if kind == "object":
        inner = _object(prop, form, name + ".", tz)
        return inner if inner else _MISSING
    raw = form.get(name)
    if raw is None:
        return _MISSING
    return _scalar(prop, str(raw).strip(), tz)


def _array(prop: Mapping[str, Any], form: FormData, name: str, tz: ZoneInfo) -> Any:
    items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
    if _kind(items) == "object":
        # One row past the limit is kept, so validation says "at most N rows" without a page of thousands.
        indexes = row_indexes(form, name)[: max_rows(prop) + 1]
        rows = [_object(items, form, f"{name}.{index}.", tz) for index in indexes]
        kept = [row for row in rows if row]
        return kept if kept else _MISSING
    values = [_scalar(items, str(v).strip(), tz) for v in form.getlist(name)]
    kept = [v for v in values if v is not _MISSING]
    return kept if kept else _MISSING


def max_rows(prop: Mapping[str, Any]) -> int:
    """How many rows a repeating group takes: its maxItems, or the service's default."""
    limit = prop.get("maxItems")
    return int(limit) if isinstance(limit, int) and limit >= 0 else DEFAULT_MAX_ROWS


def row_indexes(form: FormData, name: str) -> list[int]:
    """Row numbers submitted for a repeating group, in order."""
    pattern = re.compile(re.escape(name) + r"\.(\d+)\.")
    found = {int(m.group(1)) for key in form.keys() if (m := pattern.match(key))}
    return sorted(found)


def _scalar(prop: Mapping[str, Any], raw: str, tz: ZoneInfo) -> Any:
    if raw == "":
        return _MISSING
    kind = _kind(prop)
    enum = _enum_values(prop)
    if enum:
        return next((v for v in enum if display_value(v) == raw), raw)
    if kind == "boolean":
        low = raw.lower()
        return True if low in _TRUE else False if low in _FALSE else raw
    if kind in ("integer", "number"):
        return _number(raw, kind)
    fmt = prop.get("format")
    if fmt == "date":
        return _iso_date(raw)
    if fmt == "date-time" and _LOCAL_DATETIME.match(raw):
        return datetime.fromisoformat(raw).replace(tzinfo=tz).isoformat()
    if fmt == "codice-fiscale":
        return codice_fiscale.normalise(raw)
    return raw.replace("\r\n", "\n")


def _enum_values(prop: Mapping[str, Any]) -> list[Any]:
    if isinstance(prop.get("enum"), list):
        return list(prop["enum"])
    for key in ("oneOf", "anyOf"):
        variants = prop.get(key)
        if isinstance(variants, list) and variants and all(isinstance(v, Mapping) and "const" in v for v in variants):
            return [v["const"] for v in variants]
    return []


def _number(raw: str, kind: str) -> Any:
    text = raw.replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")  # Italian: 1.234,5
    try:
        number = float(text)
    except ValueError:
        return raw  # validation says "Inserire un numero."
    if kind == "integer" or number.is_integer():
        return int(number) if number.is_integer() else raw
    return number


def _iso_date(raw: str) -> str:
    match = _ITALIAN_DATE.match(raw)
    if not match:
        return raw
    day, month, year = (int(p) for p in match.groups())
    return f"{year:04d}-{month:02d}-{day:02d}"

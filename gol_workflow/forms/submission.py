"""A form submission checked as a whole: JSON Schema, declared cross-field rules, then what is recorded."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from ..domain.errors import ConfirmationNeeded, ValidationFailed
from . import conditions, cross_rules
from .validation import FieldErrors, validate


def problems(
    schema: Mapping[str, Any], data: Mapping[str, Any], options: Mapping[str, Iterable[str]] | None = None,
    confirmed: Collection[str] = (), forms: Mapping[str, Any] | None = None,
) -> tuple[FieldErrors, list[str]]:
    """Field errors (schema and rules, warnings not confirmed included) and the names of those warnings.

    JSON Schema checks the answers of the fields that apply (the others are ignored); the
    declared rules check the answers as given, so a rule can refuse a combination even when
    one of its fields does not apply (e.g. a contract with an outcome other than «Occupato/a»).
    """
    errors = validate(schema, conditions.without_inapplicable(schema, data), options, forms)
    warnings: list[str] = []
    for finding in cross_rules.findings(schema, data):
        if finding.confirmable is not None:
            if finding.confirmable in confirmed:
                continue
            warnings.append(finding.confirmable)
        messages = errors.setdefault(finding.path, [])
        if finding.message not in messages:
            messages.append(finding.message)
    return errors, warnings


def recorded(schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """What a completion records: every field of the form, None when not answered or when it does not apply.

    A form's answers replace its earlier answers in the case as a whole, so a task that repeats
    never leaves a previous answer standing (read-only and hidden fields are the case's, untouched).
    """
    properties = schema.get("properties") or {}
    blank = {name: None for name, prop in properties.items()
             if isinstance(prop, Mapping) and not prop.get("readOnly") and not prop.get("x-hidden")}
    return {**blank, **conditions.without_inapplicable(schema, data)}


def checked(
    schema: Mapping[str, Any], data: Mapping[str, Any], options: Mapping[str, Iterable[str]] | None = None,
    confirmed: Collection[str] = (), message: str = "il modulo contiene errori", forms: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The data to record; raises ValidationFailed (ConfirmationNeeded when a warning awaits confirmation).

    `forms` are the other forms of the version, the only ones a `$ref` may reach.
    """
    errors, warnings = problems(schema, data, options, confirmed, forms)
    if warnings:
        raise ConfirmationNeeded(message, errors, sorted(set(warnings)))
    if errors:
        raise ValidationFailed(message, errors)
    return recorded(schema, data)

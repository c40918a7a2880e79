"""What a task form starts from: its own draft, else only what the form declares as coming from the case.

A property takes its initial value from the case's data when it is `readOnly` (context shown
to the operator) or says `"x-prefill": "case"`; every other field starts empty, so a task
that repeats never shows the answers given the previous time. A form with
`"x-copy-from-previous": true` (or a button label as a string) offers to copy the answers
of the last completion of the same task in the same case, on request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

COPY_LABEL = "Copia dall'ultima compilazione"


def prefilled(form: Mapping[str, Any] | None, case_data: Mapping[str, Any]) -> dict[str, Any]:
    """The values of the fields the form declares as coming from the case."""
    if not form:
        return {}
    return {
        key: case_data[key]
        for key, prop in (form.get("properties") or {}).items()
        if isinstance(prop, Mapping) and (prop.get("readOnly") or prop.get("x-prefill") == "case") and key in case_data
    }


def copy_label(form: Mapping[str, Any] | None) -> str | None:
    """The label of the "copy from the last completion" button, or None when the form does not offer it."""
    declared = (form or {}).get("x-copy-from-previous")
    if isinstance(declared, str) and declared.strip():
        return declared.strip()
    return COPY_LABEL if declared is True else None


def copied(form: Mapping[str, Any] | None, previous: Mapping[str, Any]) -> dict[str, Any]:
    """An earlier completion's answers limited to the form's own editable fields."""
    properties = (form or {}).get("properties") or {}
    return {
        key: value for key, value in previous.items()
        if isinstance(properties.get(key), Mapping) and not properties[key].get("readOnly") and value is not None
    }

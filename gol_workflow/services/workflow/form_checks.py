"""Checks of submitted form data that need the service's state (e.g. a case manager still free at a slot).

JSON Schema checks one submission on its own; a check registered here for a form runs in
the same transaction as the completion, after the schema passed, and returns field errors
in Italian just like the schema validation does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ...persistence.uow import UnitOfWork
from .form_options import OptionContext
from .runtime import Runtime

FieldErrors = dict[str, list[str]]
FormCheck = Callable[[Runtime, UnitOfWork, Mapping[str, Any], OptionContext], FieldErrors]
_REGISTRY = "form_checks"


def register_form_check(rt: Runtime, form: str, check: FormCheck) -> None:
    """Run `check` whenever a task whose form file is `form` is completed."""
    rt.extras.setdefault(_REGISTRY, {}).setdefault(form, []).append(check)


def run_form_checks(
    rt: Runtime, uow: UnitOfWork, form: str | None, data: Mapping[str, Any], ctx: OptionContext
) -> FieldErrors:
    """Field errors of every check registered for this form (empty when all pass)."""
    errors: FieldErrors = {}
    for check in rt.extras.get(_REGISTRY, {}).get(form or "", []):
        for field, messages in check(rt, uow, data, ctx).items():
            errors.setdefault(field, []).extend(m for m in messages if m not in errors.get(field, []))
    return errors

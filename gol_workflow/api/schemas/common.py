"""Schemas every resource shares: problems, pages, datetimes in the service time zone."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate

from ...domain.model import MAX_BIG_ID, MAX_ID

MAX_PAGE_SIZE = 100
ID_IN_PATH = f"int(min=1, max={MAX_ID})"  # a URL converter: beyond the range the route does not match (404)
BIG_ID_IN_PATH = f"int(min=1, max={MAX_BIG_ID})"
TIMEZONE_KEY = "API_TIMEZONE"
MAX_DEPTH = 32
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # C0 controls but tab and line breaks


class LocalDateTime(fields.DateTime):
    """An aware datetime written as ISO 8601 with the service time zone's offset."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return super()._serialize(value.astimezone(current_app.config[TIMEZONE_KEY]), attr, obj, **kwargs)


def _has_control(value: Any, depth: int = 0) -> bool:
    """True when a string anywhere in `value` holds NUL or another C0 control other than tab and newlines."""
    if depth > MAX_DEPTH:
        return True
    if isinstance(value, str):
        return _CONTROL.search(value) is not None
    if isinstance(value, dict):
        return any(_has_control(k, depth + 1) or _has_control(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_control(v, depth + 1) for v in value)
    return False


def no_control_characters(value: Any) -> None:
    """Refuse text that no database column or form can hold (NUL and other control characters)."""
    if _has_control(value):
        raise ValidationError(f"Control characters are not allowed, nor nesting deeper than {MAX_DEPTH} levels.")


class Text(fields.String):
    """A string without control characters."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(no_control_characters)


class JsonObject(fields.Dict):
    """A JSON object of any shape, without control characters in its strings."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(keys=fields.String(), **kwargs)
        self.validators.append(no_control_characters)


class ProblemSchema(Schema):
    """An RFC 9457 problem document."""

    type = fields.String(required=True, metadata={"description": "A URI naming the kind of problem"})
    title = fields.String(required=True, metadata={"description": "Short summary of the kind of problem"})
    status = fields.Integer(required=True, metadata={"description": "The HTTP status code"})
    detail = fields.String(required=True, metadata={"description": "What went wrong with this request"})
    instance = fields.String(required=True, metadata={"description": "The path of the request that failed"})
    errors = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()),
        metadata={"description": "400 only: messages by field path (`data.beneficiario.nome`)"},
    )
    code = fields.String(metadata={
        "description": "The failure's own stable code, finer than `type`: e.g. `task-held`, `already-completed`, "
                       "`no-longer-open`, `changed-meanwhile`, `not-suspended`, `case-not-active`"})
    request_id = fields.String(metadata={
        "description": "The id of this request (also in the `X-Request-ID` response header and in the service's log "
                       "lines): quote it when reporting a problem"})
    open_case_id = fields.String(metadata={
        "description": "409 `open-case-exists` only, and only when the caller may see it: the id of the person's case that is still open"})
    open_case_url = fields.String(metadata={
        "description": "409 `open-case-exists` only: that case in this API (`/api/v1/instances/{id}`)"})
    open_case_page = fields.String(metadata={
        "description": "409 `open-case-exists` only: that case's file in the operator web (`/casi/{id}`)"})
    element = fields.String(metadata={
        "description": "409 `move-refused` only, when the refusal concerns one: the diagram element"})
    engine_detail = fields.String(metadata={
        "description": "409 `move-refused` with code `would-fail` only: what the failing step said"})


class PageArgsSchema(Schema):
    """Pagination parameters."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000),
                          metadata={"description": "Page number, from 1"})
    page_size = fields.Integer(load_default=25, validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
                               metadata={"description": f"Items per page (1-{MAX_PAGE_SIZE})"})


class PageSchema(Schema):
    """The fields every page of a list has besides its items."""

    total = fields.Integer(required=True, metadata={"description": "Items matching the filters, all pages"})
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)


class TaskRefSchema(Schema):
    """A ready task, as listed after an operation."""

    id = fields.String(required=True)
    instance_id = fields.String(required=True)
    name = fields.String(required=True)
    element = fields.String(required=True, attribute="element_id")
    lane = fields.String(required=True, allow_none=True)
    zone = fields.String(required=True, allow_none=True)

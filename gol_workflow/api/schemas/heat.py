"""Schemas of a process version's heat, the cases at one element, and saved views of the instance list."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import Schema, fields, validate

from .common import LocalDateTime, Text


# Moments a period may start or end at (outside them a time zone's offset is not a whole minute).
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


class HeatArgsSchema(Schema):
    """The period over which times are measured (default: the 30 days up to now)."""

    since = fields.AwareDateTime(data_key="from", default_timezone=UTC, validate=validate.Range(EARLIEST, LATEST),
                                 metadata={"description": "Start of the period (ISO 8601; UTC without an offset)"})
    until = fields.AwareDateTime(data_key="to", default_timezone=UTC, validate=validate.Range(EARLIEST, LATEST),
                                 metadata={"description": "End of the period, included (default: now)"})


class ElementHeatSchema(Schema):
    """One element: cases there now and the time spent in it over the period."""

    element_id = fields.String(required=True)
    name = fields.String(required=True)
    waiting = fields.Integer(required=True, metadata={"description": "Cases at it now (tasks + events + errors)"})
    tasks = fields.Integer(required=True, metadata={"description": "Open user tasks of it"})
    events = fields.Integer(required=True, metadata={"description": "Cases waiting at it for a timer or message"})
    errors = fields.Integer(required=True, metadata={"description": "Cases stopped by an error on it"})
    oldest = LocalDateTime(required=True, allow_none=True, metadata={"description": "The oldest open task's start"})
    completed = fields.Integer(required=True, metadata={"description": "Tasks of it completed in the period"})
    estimated = fields.Boolean(required=True, metadata={
        "description": "True: over 500 completions, so completed, p50 and p90 come from an evenly spread sample"})
    p50_seconds = fields.Float(required=True, allow_none=True, metadata={
        "description": "Median seconds from the step that opened a task to its completion"})
    p90_seconds = fields.Float(required=True, allow_none=True, metadata={"description": "90th percentile, seconds"})


class HeatSchema(Schema):
    """Where the cases of a version are now, and how long its user tasks took over the period."""

    process_id = fields.String(required=True)
    version = fields.Integer(required=True)
    version_id = fields.Integer(required=True)
    since = LocalDateTime(required=True, data_key="from")
    until = LocalDateTime(required=True, data_key="to")
    elements = fields.List(fields.Nested(ElementHeatSchema), required=True, metadata={
        "description": "Elements with a case now or a completion in the period, the most crowded first"})
    unplaced = fields.Integer(required=True, metadata={
        "description": "Waiting cases whose current step names no element of the diagram"})


class CaseAtSchema(Schema):
    """A case waiting at an element."""

    instance_id = fields.String(required=True)
    beneficiary_name = fields.String(required=True, allow_none=True)
    zone = fields.String(required=True, allow_none=True)
    status = fields.String(required=True)
    since = LocalDateTime(required=True, allow_none=True)
    assignee = fields.String(required=True, allow_none=True)


class CasesAtSchema(Schema):
    """The cases at an element now, the longest waiting first (at most 100)."""

    element_id = fields.String(required=True)
    name = fields.String(required=True)
    items = fields.List(fields.Nested(CaseAtSchema), required=True)


class SavedViewSchema(Schema):
    """A named filter of the instance list (the admin console's query string)."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    query = fields.String(required=True, metadata={
        "description": "Web query string of the list, e.g. `zona=valdinievole&errore=1&ultimi=7`"})
    created_at = LocalDateTime(required=True)


class SavedViewListSchema(Schema):
    """The caller's saved views, by name."""

    items = fields.List(fields.Nested(SavedViewSchema), required=True)


class SavedViewBodySchema(Schema):
    """Save a view (a view of the same name is replaced)."""

    name = Text(required=True, validate=validate.Length(min=1, max=120))
    query = Text(load_default="", validate=validate.Length(max=2000), metadata={
        "description": "Query string of the list; unknown and paging parameters are dropped"})

"""Schemas of process instances: starting, listing, inspecting and operating on them."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_dump, validate, validates_schema

from ...domain.model import InstanceStatus
from .common import MAX_ID, JsonObject, LocalDateTime, PageArgsSchema, TaskRefSchema, Text

STATUSES = [s.value for s in InstanceStatus]
MAX_OFFSET = 10_000
_DATES = validate.Range(min=date(1900, 1, 1), max=date(9000, 12, 31))


class StartBodySchema(Schema):
    """A new instance: the process and the data of its start form."""

    process = Text(required=True, validate=validate.Length(min=1, max=255),
                   metadata={"description": "The process id, e.g. percorso4"})
    data = JsonObject(load_default=dict, metadata={
        "description": "Values for the process's start form (its start event's form); a process without one "
                       "starts with this object as its data, or with none"})
    confirm_codice_fiscale = fields.Boolean(
        load_default=False,
        metadata={"description": "Confirm a codice fiscale that does not match the beneficiary's surname, name or "
                                 "birth date (omocodia, or personal data recorded differently); without it such a "
                                 "start is refused with 400 and the warning in `errors`"})
    allow_duplicate = fields.Boolean(load_default=False, metadata={
        "description": "Administrators only: open the case even though the person (by codice fiscale) already has "
                       "an open case of the process; `duplicate_reason` is then required and audited"})
    duplicate_reason = Text(validate=validate.Length(min=1, max=1000), metadata={
        "description": "Why a second open case is needed (with `allow_duplicate`)"})

    @validates_schema
    def _reason_with_override(self, body: dict[str, Any], **_: Any) -> None:
        if body.get("allow_duplicate") and not (body.get("duplicate_reason") or "").strip():
            raise ValidationError("Give the reason for a second open case.", "duplicate_reason")


class StartedSchema(Schema):
    """The instance just started."""

    id = fields.String(required=True)
    status = fields.String(required=True, allow_none=True)
    tasks = fields.List(fields.Nested(TaskRefSchema), required=True,
                        metadata={"description": "Ready tasks of the new case the caller may work"})


class InstanceFilterSchema(Schema):
    """Filters of the instance list, as on the admin page; every one is optional."""

    status = fields.List(fields.String(validate=validate.OneOf(STATUSES)),
                         metadata={"description": "Repeat for several statuses"})
    process = Text(validate=validate.Length(min=1, max=255))
    version = fields.Integer(validate=validate.Range(min=1, max=MAX_ID), metadata={"description": "Needs `process`"})
    zone = Text(validate=validate.Length(min=1, max=64))
    beneficiary = Text(validate=validate.Length(min=1, max=100),
                       metadata={"description": "Part of the name, or a whole codice fiscale"})
    started_from = fields.Date(validate=_DATES, metadata={"description": "First day (Europe/Rome), inclusive"})
    started_to = fields.Date(validate=_DATES, metadata={"description": "Last day (Europe/Rome), inclusive"})
    has_error = fields.Boolean(load_default=False)
    error_element = Text(validate=validate.Length(min=1, max=255),
                         metadata={"description": "Only instances failed on this element"})


class InstanceArgsSchema(InstanceFilterSchema, PageArgsSchema):
    """The filters and the page: by number (at most 10,000 items deep) or by cursor (any depth)."""

    after = Text(validate=validate.Length(min=1, max=300),
                 metadata={"description": "Cursor from `next_cursor`: the page after it (fast at any depth)"})
    before = Text(validate=validate.Length(min=1, max=300),
                  metadata={"description": "Cursor from `prev_cursor`: the page before it"})
    exact_counts = fields.Boolean(load_default=False, metadata={
        "description": "Count exactly beyond 1,000 per status (a pass over every matching instance)"})


class InstanceSummarySchema(Schema):
    """One instance as the list shows it."""

    id = fields.String(required=True)
    process = fields.String(required=True, attribute="process_id")
    version = fields.Integer(required=True)
    version_id = fields.Integer(required=True)
    status = fields.String(required=True)
    suspended_status = fields.String(required=True, allow_none=True,
                                     metadata={"description": "The status before it was suspended"})
    zone = fields.String(required=True, allow_none=True)
    beneficiary_name = fields.String(required=True, allow_none=True)
    codice_fiscale = fields.String(required=True, allow_none=True)
    case_manager = fields.String(required=True, allow_none=True)
    current_step = fields.String(required=True, allow_none=True)
    error_element = fields.String(required=True, allow_none=True)
    error_message = fields.String(required=True, allow_none=True)
    next_due_at = LocalDateTime(required=True, allow_none=True)
    started_by = fields.String(required=True)
    started_at = LocalDateTime(required=True)
    updated_at = LocalDateTime(required=True)
    ended_at = LocalDateTime(required=True, allow_none=True)


class InstancePageSchema(Schema):
    """One page of instances, newest first."""

    items = fields.List(fields.Nested(InstanceSummarySchema), required=True)
    total = fields.Integer(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                         metadata={"description": "Instances per status under the same filters"})
    page = fields.Integer(required=True, allow_none=True, metadata={"description": "null when paged by cursor"})
    page_size = fields.Integer(required=True)
    next_cursor = fields.String(required=True, allow_none=True)
    prev_cursor = fields.String(required=True, allow_none=True)
    capped = fields.Boolean(required=True, metadata={
        "description": "True when a status has more than 1,000 instances, or a part of a name matches more than "
                       "1,000 (counting stops there): `total` and `counts` are then lower bounds (ask "
                       "`exact_counts=true` for exact figures)"})


class WaitingSchema(Schema):
    """A timer or message the instance waits for."""

    element = fields.String(required=True, attribute="element_id")
    element_name = fields.String(required=True, allow_none=True)
    kind = fields.String(required=True, metadata={"description": "timer, message or event"})
    due_at = LocalDateTime(required=True, allow_none=True, metadata={"description": "When a timer fires"})
    message = fields.String(required=True, allow_none=True)


class ReadyTaskSchema(Schema):
    """An open user task of the instance."""

    id = fields.String(required=True)
    element = fields.String(required=True, attribute="element_id")
    name = fields.String(required=True)
    lane = fields.String(required=True, allow_none=True)
    zone = fields.String(required=True, allow_none=True)
    assignee = fields.String(required=True, allow_none=True)
    created_at = LocalDateTime(required=True)
    due_at = LocalDateTime(required=True, allow_none=True)
    has_draft = fields.Boolean(required=True)


class TaskRecordSchema(Schema):
    """A completed user task: who, when, with what data (sensitive fields masked)."""

    event_id = fields.Integer(required=True)
    at = LocalDateTime(required=True)
    actor = fields.String(required=True)
    task = fields.String(required=True)
    element = fields.String(required=True, allow_none=True, attribute="element_id")
    data = fields.Dict(required=True)
    masked_keys = fields.List(fields.String(), required=True)


class AuditEventSchema(Schema):
    """One audit event of the instance."""

    id = fields.Integer(required=True)
    at = LocalDateTime(required=True)
    actor = fields.String(required=True)
    action = fields.String(required=True)
    element = fields.String(required=True, allow_none=True, attribute="element_id")
    task_id = fields.String(required=True, allow_none=True)
    data = fields.Dict(required=True)


class VersionRefSchema(Schema):
    """A newer version the instance could migrate to."""

    id = fields.Integer(required=True)
    version = fields.Integer(required=True)
    deployed_at = LocalDateTime(required=True)


class PathStepSchema(Schema):
    """One element of the diagram that ran (or runs now), by the service's clock."""

    element = fields.String(required=True, attribute="element_id")
    name = fields.String(required=True)
    type = fields.String(required=True, metadata={"description": "BPMN element type, e.g. userTask, exclusiveGateway"})
    state = fields.String(required=True, metadata={"description": "COMPLETED, READY, WAITING, ERROR, CANCELLED..."})
    started_at = LocalDateTime(required=True, allow_none=True)
    ended_at = LocalDateTime(required=True, allow_none=True)
    by = fields.String(required=True, allow_none=True,
                       metadata={"description": "Who completed a user task; `system` for what the service ran"})


class InstanceDetailSchema(InstanceSummarySchema):
    """Everything about one instance (administrators); sensitive data masked unless revealed."""

    process_name = fields.String(required=True)
    content_hash = fields.String(required=True, metadata={"description": "SHA-256 of the version's files"})
    deployed_by = fields.String(required=True)
    deployed_at = LocalDateTime(required=True)
    element_states = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                                 metadata={"description": "Diagram element id -> its state: COMPLETED, READY, WAITING, ERROR..."})
    waiting = fields.List(fields.Nested(WaitingSchema), required=True)
    error = fields.Dict(required=True, allow_none=True)
    ready_tasks = fields.List(fields.Nested(ReadyTaskSchema), required=True)
    history = fields.List(fields.Nested(TaskRecordSchema), required=True)
    audit = fields.List(fields.Nested(AuditEventSchema), required=True)
    data = fields.Dict(required=True, metadata={"description": "Current case data"})
    masked_keys = fields.List(fields.String(), required=True,
                              metadata={"description": "Fields hidden in `data` and `history` (reveal=true shows them)"})
    newer_versions = fields.List(fields.Nested(VersionRefSchema), required=True)
    path = fields.List(fields.Nested(PathStepSchema), required=True,
                       metadata={"description": "Every element that ran, in the order it started"})
    operations = fields.List(fields.String(), required=True,
                             metadata={"description": "What may be done now: suspend, resume, retry, terminate..."})

    @pre_dump
    def _flatten(self, detail: Any, **_: Any) -> dict[str, Any]:
        values = {k: getattr(detail, k) for k in detail.__dataclass_fields__ if k != "summary"}
        values["operations"] = sorted(values["operations"])
        return {**asdict(detail.summary), **values}


class DetailArgsSchema(Schema):
    """How much to show of an instance."""

    reveal = fields.Boolean(load_default=False, metadata={
        "description": "Show sensitive fields unmasked (the opening is audited)"})


class ReasonSchema(Schema):
    """Why an administrator acts (kept in the audit log)."""

    reason = Text(validate=validate.Length(max=500), allow_none=True, load_default=None)

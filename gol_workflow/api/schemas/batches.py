"""Schemas of migrations and of operations over many instances (batches)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...services.administration.operations import NEEDS_REASON, OPERATIONS
from .common import MAX_ID, LocalDateTime, PageArgsSchema, Text
from .instances import InstanceFilterSchema

MAX_LISTED = 100
ITEM_STATUSES = ["pending", "ok", "failed", "skipped"]


class MigrateBodySchema(Schema):
    """Which instances move to which version: listed ones at once, or a filtered set as a batch."""

    target_version_id = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID),
                                       metadata={"description": "A newer version of the instances' process"})
    instance_ids = fields.List(fields.UUID(), validate=validate.Length(min=1, max=MAX_LISTED), metadata={
        "description": f"Up to {MAX_LISTED} instances, migrated now, one by one, each with its result"})
    filters = fields.Nested(InstanceFilterSchema, metadata={
        "description": "Every matching instance, migrated as a batch by the scheduler (202 and a batch to follow)"})
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "With instance_ids: only say whether each instance could move, and why not"})
    reason = Text(validate=validate.Length(min=1, max=500), metadata={
        "description": "Why (kept in the audit log); required unless dry_run"})

    @validates_schema
    def _one_selection(self, data: dict[str, Any], **_: Any) -> None:
        if ("instance_ids" in data) == ("filters" in data):
            raise ValidationError("Give either instance_ids or filters.", "instance_ids")
        if data.get("dry_run") and "filters" in data:
            raise ValidationError("A dry run needs instance_ids.", "dry_run")
        if not data.get("dry_run") and not (data.get("reason") or "").strip():
            raise ValidationError("A reason is required.", "reason")


class IssueSchema(Schema):
    """Why an instance cannot move, or what to know about a move that can go ahead."""

    kind = fields.String(required=True, metadata={
        "description": "removed_ran, removed_current, changed_ran, subprocess_missing, would_not_load; "
                       "for notes: timer_kept, task_reset, changed_open"})
    element_id = fields.String(required=True, allow_none=True)
    element_name = fields.String(required=True, allow_none=True)
    text = fields.String(required=True)


class MigrationResultSchema(Schema):
    """What happened to one instance."""

    instance_id = fields.String(required=True)
    ok = fields.Boolean(required=True, metadata={"description": "Migrated (or, in a dry run, could migrate)"})
    code = fields.String(required=True, metadata={
        "description": "ok, refused, invalid_state, not_found, conflict, forbidden, invalid, error"})
    message = fields.String(required=True)
    issues = fields.List(fields.Nested(IssueSchema), required=True)
    notes = fields.List(fields.Nested(IssueSchema), required=True)


class MigrationReportSchema(Schema):
    """Per-instance results of a migration of listed instances."""

    dry_run = fields.Boolean(required=True)
    ok = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    results = fields.List(fields.Nested(MigrationResultSchema), required=True)


class BatchBodySchema(Schema):
    """An operation over every instance matching the filters."""

    operation = fields.String(required=True, validate=validate.OneOf(sorted(OPERATIONS)))
    filters = fields.Nested(InstanceFilterSchema, required=True)
    reason = Text(validate=validate.Length(min=1, max=500), metadata={
        "description": f"Why (audited); required for {', '.join(sorted(NEEDS_REASON))}"})
    target_version_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID), metadata={"description": "For migrate"})


class BatchArgsSchema(PageArgsSchema):
    """Which of the batch's per-instance results to show."""

    item_status = fields.String(validate=validate.OneOf(ITEM_STATUSES))


class BatchItemSchema(Schema):
    """How the operation went on one instance."""

    position = fields.Integer(required=True)
    instance_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "pending, ok, failed, skipped"})
    code = fields.String(required=True, allow_none=True)
    message = fields.String(required=True, allow_none=True)
    details = fields.List(fields.Dict(), required=True, allow_none=True)
    done_at = LocalDateTime(required=True, allow_none=True)


class BatchCountsSchema(Schema):
    """Items per status."""

    pending = fields.Integer(required=True)
    ok = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    skipped = fields.Integer(required=True)


class BatchSummarySchema(Schema):
    """A batch and its progress."""

    id = fields.String(required=True)
    operation = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "queued, running, finished, cancelled"})
    total = fields.Integer(required=True)
    done = fields.Integer(required=True)
    params = fields.Dict(required=True, allow_none=True, metadata={"description": "Filters, reason, target"})
    created_by = fields.String(required=True)
    created_at = LocalDateTime(required=True)
    started_at = LocalDateTime(required=True, allow_none=True)
    finished_at = LocalDateTime(required=True, allow_none=True)


class BatchSchema(BatchSummarySchema):
    """A batch with its counts and one page of per-instance results."""

    percent = fields.Integer(required=True)
    counts = fields.Nested(BatchCountsSchema, required=True)
    items = fields.List(fields.Nested(BatchItemSchema), required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)


class BatchListSchema(Schema):
    """The latest batches, newest first."""

    items = fields.List(fields.Nested(BatchSummarySchema), required=True)
    total = fields.Integer(required=True)

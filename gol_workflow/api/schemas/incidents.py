"""Schemas of incidents, their groups and the repairs made from them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ...domain.incident_kinds import KINDS
from ...services.administration.incident_desk import STATUSES
from .common import MAX_ID, JsonObject, LocalDateTime, PageArgsSchema, PageSchema, Text

KIND_LIST = sorted(KINDS)


class IncidentArgsSchema(PageArgsSchema):
    """Filters of the incident list."""

    status = fields.String(load_default="open", validate=validate.OneOf(STATUSES),
                           metadata={"description": "open (default) or resolved"})
    process = fields.String(validate=validate.Length(max=255), metadata={"description": "A process id"})
    version_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID), metadata={"description": "A process version's id"})
    element = fields.String(validate=validate.Length(max=255), metadata={"description": "The failed element's id"})
    kind = fields.String(validate=validate.OneOf(KIND_LIST), metadata={"description": "What failed"})
    assignee = fields.String(validate=validate.Length(max=150),
                             metadata={"description": "Who is looking at it (a username)"})


class CommentSchema(Schema):
    """A comment on an incident."""

    at = LocalDateTime(required=True)
    author = fields.String(required=True)
    text = fields.String(required=True)


class IncidentSchema(Schema):
    """An instance's error from its first failure to its resolution."""

    id = fields.Integer(required=True)
    instance_id = fields.String(required=True)
    process_id = fields.String(required=True)
    version = fields.Integer(required=True)
    process_version_id = fields.Integer(required=True)
    element_id = fields.String(required=True, allow_none=True)
    element_name = fields.String(required=True, allow_none=True)
    kind = fields.String(required=True, metadata={
        "description": "What failed, from the exception's type: " + ", ".join(KIND_LIST)})
    explanation = fields.String(required=True, metadata={"description": "What happened, in Italian"})
    advice = fields.String(required=True, metadata={"description": "What usually fixes it, in Italian"})
    message = fields.String(required=True, metadata={"description": "The technical message"})
    detail = JsonObject(required=True, metadata={"description": "line, source_line, retryable, exception"})
    status = fields.String(required=True, metadata={"description": "open or resolved"})
    attempts = fields.Integer(required=True, metadata={"description": "Failures so far"})
    opened_at = LocalDateTime(required=True)
    last_failed_at = LocalDateTime(required=True)
    assignee = fields.String(required=True, allow_none=True)
    resolution = fields.String(required=True, allow_none=True, metadata={
        "description": "retried, retried_automatically, skipped, edited, moved, migrated, terminated, by_hand"})
    resolution_note = fields.String(required=True, allow_none=True)
    resolved_by = fields.String(required=True, allow_none=True)
    resolved_at = LocalDateTime(required=True, allow_none=True)
    instance_status = fields.String(required=True)
    actions = fields.List(fields.String(), required=True, metadata={
        "description": "What can be done now: assign, comment, retry, skip, edit_and_retry, resolve"})
    comments = fields.List(fields.Nested(CommentSchema), required=True)


class IncidentPageSchema(PageSchema):
    """A page of incidents, the latest failure first."""

    items = fields.List(fields.Nested(IncidentSchema), required=True)


class IncidentGroupSchema(Schema):
    """Open incidents alike: same process version, element and kind."""

    process_id = fields.String(required=True)
    process_version_id = fields.Integer(required=True)
    version = fields.Integer(required=True)
    element_id = fields.String(required=True, allow_none=True)
    element_name = fields.String(required=True, allow_none=True)
    kind = fields.String(required=True)
    explanation = fields.String(required=True)
    count = fields.Integer(required=True)
    attempts = fields.Integer(required=True)
    first_at = LocalDateTime(required=True)
    last_at = LocalDateTime(required=True)


class IncidentGroupListSchema(Schema):
    """The groups of open incidents."""

    items = fields.List(fields.Nested(IncidentGroupSchema), required=True)


class RepairedSchema(Schema):
    """What a repair did: whether the instance left its error, and the incident as it is now."""

    resolved = fields.Boolean(required=True, metadata={"description": "False: the step failed again (one more attempt)"})
    incident = fields.Nested(IncidentSchema, required=True)


class SkipBodySchema(Schema):
    """Why the failed step is skipped."""

    reason = Text(required=True, validate=validate.Length(min=1, max=2000))


class EditBodySchema(Schema):
    """The fields to set in the failed step's data, and why."""

    data = JsonObject(required=True, metadata={"description": "Top-level fields to set (case_id cannot be changed)"})
    reason = Text(required=True, validate=validate.Length(min=1, max=2000))


class NoteBodySchema(Schema):
    """How an incident was resolved (its instance is no longer in error)."""

    note = Text(required=True, validate=validate.Length(min=1, max=2000))


class CommentBodySchema(Schema):
    """A comment."""

    text = Text(required=True, validate=validate.Length(min=1, max=2000))


class AssignBodySchema(Schema):
    """Take the incident (the caller looks at it), or leave it."""

    release = fields.Boolean(load_default=False, metadata={"description": "True: nobody is looking at it any more"})


class GroupBodySchema(Schema):
    """A group of open incidents and, for skip and resolve, why."""

    process_version_id = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    element_id = fields.String(required=True, allow_none=True, validate=validate.Length(max=255))
    kind = fields.String(required=True, validate=validate.OneOf(KIND_LIST))
    reason = Text(validate=validate.Length(min=1, max=2000), metadata={"description": "Required for skip and resolve"})


class GroupFailureSchema(Schema):
    """An incident of the group that was not resolved, and why (a problem code, or failed-again)."""

    id = fields.Integer(required=True)
    code = fields.String(required=True)


class GroupOutcomeSchema(Schema):
    """What a group action did to each incident (at most 200 per call)."""

    done = fields.List(fields.Integer(), required=True)
    failed = fields.List(fields.Nested(GroupFailureSchema), required=True)

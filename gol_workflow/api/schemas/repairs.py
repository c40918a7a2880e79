"""Schemas of the checked repairs of one instance: a validated data edit and a move."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .common import JsonObject, Text

KINDS = ["back_to", "skip", "cancel_branch"]
_REASON = validate.Length(min=1, max=500)


class DataEditBodySchema(Schema):
    """Fields to set (and to remove), with the reason; `dry_run` answers the consequences without saving."""

    changes = JsonObject(load_default=dict, metadata={
        "description": "Top-level fields of the case's data and their new values; each must fit what the process "
                       "declares (its forms' JSON Schemas; a known zone for the zone field)"})
    remove = fields.List(Text(validate=validate.Length(min=1, max=255)), load_default=list,
                         validate=validate.Length(max=100), metadata={"description": "Top-level fields to remove"})
    reason = Text(required=True, validate=_REASON, metadata={"description": "Why (kept in the audit log)"})
    dry_run = fields.Boolean(load_default=False, metadata={"description": "Only answer what the edit would do"})


class FieldChangeSchema(Schema):
    """One field: its value before and after."""

    field = fields.String(required=True)
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)
    removed = fields.Boolean(required=True)


class TaskMoveSchema(Schema):
    """An open task that follows the case into another zone."""

    task_id = fields.String(required=True)
    name = fields.String(required=True)
    from_zone = fields.String(allow_none=True)
    to_zone = fields.String(required=True)


class MeetingChangeSchema(Schema):
    """An equipe meeting the case leaves (`withdrawn`) or joins (`booked`)."""

    action = fields.String(required=True, validate=validate.OneOf(["withdrawn", "booked"]))
    meeting = fields.String(required=True)
    at = fields.String(required=True, metadata={"description": "When the meeting is held (ISO 8601)"})


class DataEditSchema(Schema):
    """What the edit changes (dry run) or changed, and what follows from it."""

    applied = fields.Boolean(required=True, metadata={"description": "False for a dry run"})
    reason = fields.String(required=True)
    changes = fields.List(fields.Nested(FieldChangeSchema), required=True)
    tasks_moved = fields.List(fields.Nested(TaskMoveSchema), required=True)
    meetings = fields.List(fields.Nested(MeetingChangeSchema), required=True)
    facts = fields.Dict(keys=fields.String(), values=fields.List(fields.Raw(allow_none=True)), required=True,
                        metadata={"description": "Case record facts that change: [before, after]"})


class MoveBodySchema(Schema):
    """A move: its kind, the task it is about (by id, or by element), the reason."""

    kind = fields.String(required=True, validate=validate.OneOf(KINDS), metadata={
        "description": "back_to: do a completed task again; skip: complete the open task without its work; "
                       "cancel_branch: end the open task's branch (a join stops waiting for it)"})
    task_id = Text(validate=validate.Length(min=1, max=64), metadata={
        "description": "The task: a completed one for back_to, an open one (or a waiting event) otherwise"})
    element = Text(validate=validate.Length(min=1, max=255), metadata={
        "description": "Instead of task_id: the element (its latest completion for back_to, its one open task "
                       "otherwise)"})
    reason = Text(required=True, validate=_REASON, metadata={"description": "Why (kept in the audit log)"})
    dry_run = fields.Boolean(load_default=False, metadata={"description": "Only answer what the move would do"})
    prefill = fields.Boolean(load_default=False, metadata={
        "description": "back_to: the redone form starts from the earlier answers (otherwise they are only shown)"})


class OpenItemSchema(Schema):
    """A task or wait the move creates, cancels or keeps."""

    task_id = fields.String(required=True)
    element_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "task, timer, message, step or error"})
    due_at = fields.String(allow_none=True, metadata={"description": "A timer's due time (ISO 8601)"})
    lane = fields.String(allow_none=True)


class UndoneSchema(Schema):
    """A completed task whose answers a back_to sets aside."""

    task_id = fields.String(required=True)
    element_id = fields.String(required=True)
    name = fields.String(required=True)
    ended_at = fields.String(allow_none=True)


class MoveSchema(Schema):
    """What the move does (dry run) or did."""

    applied = fields.Boolean(required=True, metadata={"description": "False for a dry run"})
    kind = fields.String(required=True)
    element_id = fields.String(required=True)
    element_name = fields.String(required=True)
    reason = fields.String(required=True)
    created = fields.List(fields.Nested(OpenItemSchema), required=True)
    cancelled = fields.List(fields.Nested(OpenItemSchema), required=True)
    kept = fields.List(fields.Nested(OpenItemSchema), required=True)
    undone = fields.List(fields.Nested(UndoneSchema), required=True)
    not_undone = fields.List(fields.String(), required=True, metadata={
        "description": "Undone steps that acted outside the service (IDOL, letters): not taken back"})
    next_automatic = fields.String(allow_none=True, metadata={
        "description": "Dry run: the automatic step the case runs next (the preview stops before it)"})
    agenda_withdrawn = fields.List(fields.String(), required=True)
    bookings_released = fields.List(fields.String(), required=True)
    facts_cleared = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True)
    previous_answers = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), allow_none=True)
    prefill = fields.Boolean(required=True)
    status_after = fields.String(allow_none=True)

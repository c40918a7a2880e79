"""Schemas of the task inbox, a task with its form, claiming and completing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, fields, pre_dump, validate

from .common import JsonObject, LocalDateTime, PageArgsSchema, PageSchema, TaskRefSchema, Text

# API names of the inbox's queues and sort keys -> the service's.
QUEUES = {"all": "tutte", "mine": "mie", "unassigned": "libere", "overdue": "scadute"}
SORTS = {"waiting": "attesa", "due": "scadenza", "beneficiary": "beneficiario", "name": "attivita"}


class InboxArgsSchema(PageArgsSchema):
    """Filters, sorting and page of the caller's inbox."""

    zone = Text(validate=validate.Length(min=1, max=64),
                         metadata={"description": "Only tasks of this zone (one of the caller's zones)"})
    element = Text(validate=validate.Length(min=1, max=255),
                            metadata={"description": "Only tasks of this BPMN element (task type)"})
    overdue = fields.Boolean(load_default=False, metadata={"description": "Only tasks past their due date"})
    q = Text(validate=validate.Length(min=1, max=100),
                      metadata={"description": "Beneficiary: part of the name, or the whole codice fiscale"})
    queue = fields.String(load_default="all", validate=validate.OneOf(list(QUEUES)),
                          metadata={"description": "all, mine (claimed by me), unassigned, overdue"})
    sort = fields.String(load_default="waiting", validate=validate.OneOf(list(SORTS)),
                         metadata={"description": "waiting (creation time), due, beneficiary, name"})
    order = fields.String(load_default="asc", validate=validate.OneOf(["asc", "desc"]))


class CaseRefSchema(Schema):
    """The Percorso 4 case a task is about."""

    id = fields.String(required=True)
    beneficiary_name = fields.String(required=True, allow_none=True)
    codice_fiscale = fields.String(required=True, allow_none=True)


class InboxItemSchema(Schema):
    """A ready task in an inbox."""

    id = fields.String(required=True)
    instance_id = fields.String(required=True)
    process = fields.String(required=True, attribute="process_id")
    case = fields.Nested(CaseRefSchema, required=True)
    element = fields.String(required=True, attribute="element_id")
    name = fields.String(required=True)
    lane = fields.String(required=True, allow_none=True)
    participant = fields.String(allow_none=True, metadata={
        "description": "The equipe participant whose own task this is (`centro_impiego`, `servizio_sociale` or a "
                       "specialist service id, e.g. each one's confirmation of the equipe's decision): only that "
                       "service's operators of the zone see it. Null: anyone working the lane."})
    zone = fields.String(required=True, allow_none=True)
    created_at = LocalDateTime(required=True)
    due_at = LocalDateTime(required=True, allow_none=True)
    assignee = fields.String(required=True, allow_none=True)

    @pre_dump
    def _case(self, row: Mapping[str, Any], **_: Any) -> dict[str, Any]:
        case = {"id": row["case_id"] or row["instance_id"], "beneficiary_name": row["beneficiary_name"],
                "codice_fiscale": row["codice_fiscale"]}
        return {**row, "case": case}


class QueueCountsSchema(Schema):
    """How many tasks each queue holds under the same filters."""

    all = fields.Integer(required=True)
    mine = fields.Integer(required=True)
    unassigned = fields.Integer(required=True)
    overdue = fields.Integer(required=True)


class InboxPageSchema(PageSchema):
    """One page of the caller's inbox."""

    items = fields.List(fields.Nested(InboxItemSchema), required=True)
    counts = fields.Nested(QueueCountsSchema, required=True)


class HistoryEventSchema(Schema):
    """One event of a case's history."""

    at = LocalDateTime(required=True)
    actor = fields.String(required=True)
    action = fields.String(required=True, metadata={"description": "e.g. task.completed, timer.fired"})
    label = fields.String(required=True, metadata={"description": "The action in Italian"})
    detail = fields.String(required=True)
    element = fields.String(required=True, allow_none=True, attribute="element_id")


class TaskDetailSchema(InboxItemSchema):
    """A ready task with its form, current values, instructions and the case's recent history."""

    form = fields.Dict(required=True, allow_none=True, metadata={
        "description": "The task's JSON Schema; `x-options` fields list the caller's choices as oneOf"})
    values = fields.Dict(required=True, metadata={
        "description": "Where the form starts: the saved draft, else only the fields the form declares as coming "
                       "from the case (`readOnly`, `x-prefill: case`); a repeated task never starts from earlier answers"})
    previous_values = fields.Dict(required=True, allow_none=True, metadata={
        "description": "When the form declares `x-copy-from-previous`: the answers of the last completion of the "
                       "same task in this case, to copy on request (null when there is none or the form does not offer it)"})
    instructions = fields.String(required=True, allow_none=True, metadata={
        "description": "Plain text, the same the web page shows (escape it before putting it into HTML)"})
    history = fields.List(fields.Nested(HistoryEventSchema), required=True)


class CompleteBodySchema(Schema):
    """The form data that completes a task."""

    data = JsonObject(required=True,
                       metadata={"description": "Values for the task's form (see `form` on the task)"})


class CompletionSchema(Schema):
    """What happened after a completion."""

    instance_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "The instance's status now"})
    next_tasks = fields.List(fields.Nested(TaskRefSchema), required=True,
                             metadata={"description": "Tasks of this instance the caller may work next"})

"""Schemas of the case list and a case's record."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ...services.cases.case_list import STATUS_FILTERS
from .common import LocalDateTime, PageArgsSchema, PageSchema, Text

# API sort names -> the service's
SORTS = {"updated": "updated", "opened": "opened", "name": "name", "end": "end", "equipe": "equipe"}


class CaseListArgsSchema(PageArgsSchema):
    """Filters, sorting and page of the case list."""

    q = Text(validate=validate.Length(min=1, max=100),
             metadata={"description": "Beneficiary: part of the name, or the whole codice fiscale"})
    zone = Text(validate=validate.Length(min=1, max=64),
                metadata={"description": "Only cases of this zone (one of the caller's zones)"})
    status = fields.String(validate=validate.OneOf(list(STATUS_FILTERS)), metadata={
        "description": "aperto (running, waiting, error, suspended), chiuso (completed, terminated), "
                       "or one stored status"})
    step = Text(validate=validate.Length(min=1, max=255),
                metadata={"description": "Only cases whose current step is exactly this (as `current_step` shows it)"})
    overdue = fields.Boolean(load_default=False, metadata={"description": "Only cases with a task past its due date"})
    mine = fields.Boolean(load_default=False, metadata={
        "description": "Only my cases: I am their case manager, my service is invited, or I took one of their tasks"})
    sort = fields.String(load_default="updated", validate=validate.OneOf(list(SORTS)),
                         metadata={"description": "updated (last change of a fact), opened, name, end (of the "
                                                  "12-month path), equipe (meeting date)"})
    order = fields.String(load_default="desc", validate=validate.OneOf(["asc", "desc"]))


class CaseSummarySchema(Schema):
    """A case as the list shows it."""

    id = fields.String(required=True)
    process = fields.String(required=True, attribute="process_id")
    status = fields.String(required=True, metadata={"description": "The instance's status"})
    current_step = fields.String(required=True, allow_none=True)
    zone = fields.String(required=True, allow_none=True)
    beneficiary_name = fields.String(required=True, allow_none=True)
    codice_fiscale = fields.String(required=True, allow_none=True)
    case_manager = fields.String(required=True, allow_none=True, metadata={"description": "Username"})
    case_manager_name = fields.String(required=True, allow_none=True, metadata={"description": "Full name"})
    equipe_at = LocalDateTime(required=True, allow_none=True)
    first_appointment_at = LocalDateTime(required=True, allow_none=True)
    path_end_at = LocalDateTime(required=True, allow_none=True)
    outcome = fields.String(required=True, allow_none=True)
    opened_at = LocalDateTime(required=True)
    updated_at = LocalDateTime(required=True, metadata={"description": "When a fact of the case last changed"})
    ended_at = LocalDateTime(required=True, allow_none=True)
    next_due_at = LocalDateTime(required=True, allow_none=True,
                                metadata={"description": "The earliest due date of the case's open tasks"})


class CaseListPageSchema(PageSchema):
    """One page of the case list."""

    items = fields.List(fields.Nested(CaseSummarySchema), required=True)
    total_exact = fields.Boolean(required=True, metadata={
        "description": "False when there are more than `total` matching cases (counts stop at 1,000)"})


class CaseRecordSchema(CaseSummarySchema):
    """Every fact of a case's record."""

    birth_date = fields.Date(required=True, allow_none=True)
    profiled_at = LocalDateTime(required=True, allow_none=True)
    complex_needs = fields.Boolean(required=True, allow_none=True)
    percorso = fields.Integer(required=True, allow_none=True)
    known_to_social_services = fields.Boolean(required=True, allow_none=True)
    particular_needs = fields.Boolean(required=True, allow_none=True)
    specialist_services = fields.List(fields.String(), required=True, allow_none=True)
    decision = fields.String(required=True, allow_none=True)
    measures = fields.List(fields.String(), required=True, allow_none=True)
    equipe_participants = fields.List(fields.String(), allow_none=True, metadata={
        "description": "Who took part in the equipe of the latest final scheda (CPI, Social Services, "
                       "specialist services present)"})
    equipe_confirmed_by = fields.List(fields.String(), allow_none=True, metadata={
        "description": "The participants who confirmed its decision (all the required ones: it is final)"})
    first_appointment_place = fields.String(required=True, allow_none=True)
    path_start_date = fields.Date(required=True, allow_none=True)
    monitorings = fields.Integer(required=True)
    last_monitoring_date = fields.Date(required=True, allow_none=True)
    substantial_changes = fields.Integer(required=True)
    last_substantial_change_date = fields.Date(required=True, allow_none=True)
    last_substantial_change = fields.String(required=True, allow_none=True)
    final_monitoring_date = fields.Date(required=True, allow_none=True)

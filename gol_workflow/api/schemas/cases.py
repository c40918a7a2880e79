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


class FactSchema(Schema):
    """One fact of the case in words."""

    label = fields.String(required=True)
    text = fields.String(required=True)


class FactSectionSchema(Schema):
    """A group of the case's facts, in the order of the path."""

    title = fields.String(required=True)
    facts = fields.List(fields.Nested(FactSchema), required=True)


class OutcomeRowSchema(Schema):
    """One answer of a step's form: the field's Italian title and the answer in words (codes labelled)."""

    label = fields.String(required=True)
    text = fields.String(required=True, metadata={"description": "Empty for the heading of a group"})
    depth = fields.Integer(required=True, metadata={"description": "Nesting: 0 for a top-level field"})


class StoryEventSchema(Schema):
    """One event of the case's story, oldest first."""

    at = LocalDateTime(required=True)
    action = fields.String(required=True, metadata={"description": "The audit action (a code, for programs)"})
    label = fields.String(required=True, metadata={"description": "What happened, in Italian"})
    detail = fields.String(required=True, metadata={"description": "The task's name, the reason, the meeting…"})
    actor = fields.String(required=True, metadata={"description": "Username of who did it"})
    author = fields.String(required=True, metadata={"description": "Full name, or \"Sistema\" for the service"})
    step = fields.Boolean(required=True, metadata={
        "description": "A step of the path (a completed task, the equipe's scheda) rather than a side event"})
    outcome = fields.List(fields.Nested(OutcomeRowSchema), required=True)


class RepeatedEventSchema(Schema):
    """Reads (or saved drafts) of one person, counted instead of listed."""

    action = fields.String(required=True)
    label = fields.String(required=True)
    author = fields.String(required=True)
    times = fields.Integer(required=True)
    last_at = LocalDateTime(required=True)


class CaseAttachmentSchema(Schema):
    """A file of the case (its bytes come from the web page's link)."""

    id = fields.String(required=True)
    filename = fields.String(required=True)
    kind = fields.String(required=True)
    kind_label = fields.String(required=True)
    size = fields.Integer(required=True)
    uploaded_at = LocalDateTime(required=True)
    uploaded_by = fields.String(required=True, metadata={"description": "Full name, or \"Sistema\""})


class CaseFileSchema(CaseRecordSchema):
    """The case record with the story its file tells."""

    summary = fields.List(fields.Nested(FactSectionSchema), required=True,
                          metadata={"description": "The record's facts in Italian words, grouped as the path goes"})
    story = fields.List(fields.Nested(StoryEventSchema), required=True)
    reads = fields.List(fields.Nested(RepeatedEventSchema), required=True, metadata={
        "description": "Reads of the file, its documents and attachments (and saved drafts), one item per person"})
    attachments = fields.List(fields.Nested(CaseAttachmentSchema), required=True)
    actions = fields.List(fields.String(), required=True, metadata={
        "description": "What the caller may do on the case now: case.request_monitoring, case.report_change, "
                       "case.attach"})


class LetterSchema(Schema):
    """A letter to the person (or the project printed for signature), kept on the case as a PDF."""

    id = fields.String(required=True)
    kind = fields.String(required=True, metadata={
        "description": "lettera_convocazione (to the equipe), lettera_esito (every equipe decision), "
                       "lettera_appuntamento (first appointment), progetto_da_firmare (the project to sign)"})
    label = fields.String(required=True, metadata={"description": "The kind in Italian, as the case file shows it"})
    filename = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "Bytes of the PDF"})
    issued_at = LocalDateTime(required=True)
    emailed = fields.Boolean(required=True, metadata={
        "description": "Also queued for e-mail to the address the person gave (else only printable)"})


class LetterListSchema(Schema):
    """The letters of one case, newest first."""

    items = fields.List(fields.Nested(LetterSchema), required=True)

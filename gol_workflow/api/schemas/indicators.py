"""Schemas of the indicators, the waiting times, the forecast, placements and the operators' meetings."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .common import LocalDateTime


class IndicatorArgsSchema(Schema):
    """Which zone and period (local days, both included)."""

    zone = fields.String(load_default=None, metadata={
        "description": "A zone id; omitted: the whole service (administrators only)"})
    from_ = fields.Date(data_key="from", load_default=None, metadata={
        "description": "First day (default: 1 January of this year)"})
    to = fields.Date(load_default=None, metadata={"description": "Last day, included (default: today)"})


class IndicatorSchema(Schema):
    """One indicator of the catalogue for the period; figures about fewer than 5 people are null."""

    id = fields.String(required=True)
    label = fields.String(required=True, metadata={"description": "Italian label, verbatim from its source"})
    source = fields.String(required=True, metadata={"description": "The document the indicator comes from"})
    definition = fields.String(required=True)
    value = fields.Float(allow_none=True, required=True)
    numerator = fields.Integer(allow_none=True, required=True)
    denominator = fields.Integer(allow_none=True, required=True, metadata={
        "description": "Only for ratios (e.g. the same period one year before)"})
    target = fields.Float(allow_none=True, required=True, metadata={"description": "The source's target, if any"})
    target_text = fields.String(allow_none=True, required=True)
    unit = fields.String(required=True, metadata={"description": "persone, inserimenti, incontri, colloqui or %"})
    suppressed = fields.Boolean(required=True, metadata={"description": "True: fewer than 5 people, not shown"})
    reached = fields.Boolean(allow_none=True, required=True)


class WaitFiguresSchema(Schema):
    """Days from access to one step: how many cases, median and 90th percentile (null below 5 cases)."""

    n = fields.Integer(allow_none=True, required=True)
    p50 = fields.Float(allow_none=True, required=True)
    p90 = fields.Float(allow_none=True, required=True)
    suppressed = fields.Boolean(required=True)


class WaitingRowSchema(Schema):
    """Waiting times of the cases opened in one month, in one zone (zone null: all the zones asked)."""

    zone = fields.String(allow_none=True, required=True)
    month = fields.String(required=True, metadata={"description": "YYYY-MM of access"})
    profiling = fields.Nested(WaitFiguresSchema, required=True)
    equipe = fields.Nested(WaitFiguresSchema, required=True)
    first_appointment = fields.Nested(WaitFiguresSchema, required=True)
    path_start = fields.Nested(WaitFiguresSchema, required=True)


class IndicatorReportSchema(Schema):
    """The indicators, waiting times and flow figures of a zone or of the whole service."""

    items = fields.List(fields.Nested(IndicatorSchema), required=True)
    zone = fields.String(allow_none=True, required=True)
    zones = fields.List(fields.String(), required=True)
    from_ = fields.Date(data_key="from", required=True)
    to = fields.Date(required=True)
    waiting = fields.List(fields.Nested(WaitingRowSchema), required=True)
    flow = fields.Dict(required=True, metadata={
        "description": "agenda_rule (share of cases discussed at the first meeting they could join), "
                       "cases_per_meeting, case_manager_load, outcomes (at the final monitoring)"})


class ForecastArgsSchema(Schema):
    """The forecast asked: zone, window, arrivals, and the change tried."""

    zone = fields.String(required=True)
    start = fields.Date(load_default=None, metadata={"description": "First day (default: next Monday)"})
    weeks = fields.Integer(load_default=26, validate=validate.Range(1, 156))
    people = fields.Integer(load_default=None, validate=validate.Range(0, 20000), metadata={
        "description": "Arrivals over the window; omitted: at the pace of the last 12 weeks"})
    cadence_weeks = fields.Integer(load_default=None, validate=validate.Range(1, 4))
    extra_case_managers = fields.Integer(load_default=0, validate=validate.Range(0, 50))
    agenda_capacity = fields.Integer(load_default=None, validate=validate.Range(1, 200))


class ForecastWeekSchema(Schema):
    """One projected week."""

    start = fields.Date(required=True)
    arrivals = fields.Integer(required=True)
    meetings = fields.Integer(required=True)
    agenda_length = fields.Float(allow_none=True, required=True)
    wait_days = fields.Float(allow_none=True, required=True)
    max_load = fields.Integer(required=True)
    loads = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class ProjectionSchema(Schema):
    """One projection and its summary."""

    label = fields.String(required=True)
    mean_agenda = fields.Float(allow_none=True, required=True)
    mean_wait = fields.Float(allow_none=True, required=True)
    p90_wait = fields.Float(allow_none=True, required=True)
    max_load = fields.Integer(required=True)
    weeks = fields.List(fields.Nested(ForecastWeekSchema), required=True)


class ForecastSchema(Schema):
    """The projection as things are and with the change tried."""

    zone = fields.String(required=True)
    start = fields.Date(required=True)
    weeks = fields.Integer(required=True)
    people = fields.Integer(required=True)
    from_recent = fields.Boolean(required=True)
    baseline = fields.Nested(ProjectionSchema, required=True)
    changed = fields.Nested(ProjectionSchema, required=True)


class PlacementInSchema(Schema):
    """A placement to record."""

    kind = fields.String(required=True, metadata={
        "description": "tirocinio, assunzione, inclusione_sociale or laboratorio_protetto"})
    sector = fields.String(required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(load_default=None, allow_none=True)


class PlacementSchema(PlacementInSchema):
    """A recorded placement."""

    id = fields.Integer(required=True)
    recorded_by = fields.String(required=True)
    recorded_at = LocalDateTime(required=True)


class PlacementListSchema(Schema):
    """A case's placements."""

    items = fields.List(fields.Nested(PlacementSchema), required=True)
    total = fields.Integer(required=True)


class OperatorMeetingInSchema(Schema):
    """A coordination or training meeting of the operators."""

    zone = fields.String(required=True)
    held_on = fields.Date(required=True)
    kind = fields.String(required=True, metadata={"description": "coordinamento or formazione"})
    topic = fields.String(required=True)
    participants = fields.Integer(required=True)


class OperatorMeetingSchema(OperatorMeetingInSchema):
    """A meeting of the register."""

    id = fields.Integer(required=True)
    recorded_by = fields.String(required=True)


class OperatorMeetingListSchema(Schema):
    """Meetings of the register, latest first."""

    items = fields.List(fields.Nested(OperatorMeetingSchema), required=True)
    total = fields.Integer(required=True)


class CreatedSchema(Schema):
    """The id of what was recorded."""

    id = fields.Integer(required=True)

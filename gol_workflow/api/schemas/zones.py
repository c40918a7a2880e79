"""Schemas of zones and their equipe meetings."""

from __future__ import annotations

from marshmallow import Schema, fields

from .common import LocalDateTime


class EquipeSchema(Schema):
    """When and where a zone's equipe meets."""

    weekday = fields.String(required=True, metadata={"description": "lunedi ... venerdi"})
    time = fields.String(required=True, metadata={"description": "Local time, HH:MM"})
    cadence_weeks = fields.Integer(required=True, metadata={"description": "1 weekly, 2 fortnightly"})
    location = fields.String(required=True)
    notice_days = fields.Integer(required=True, metadata={"description": "Days between the cut-off and the meeting"})


class ServiceSchema(Schema):
    """A specialist service the equipe may invite."""

    id = fields.String(required=True)
    name = fields.String(required=True)


class SocialServicesSchema(Schema):
    """The body running the zone's social services."""

    kind = fields.String(required=True, metadata={
        "description": "sds, comune, unione_comuni, asl_zona_distretto or convenzione"})
    name = fields.String(required=True)
    email = fields.String(required=True)


class EmploymentCentreSchema(Schema):
    """A Centro per l'impiego of the zone (the first one organises the equipe)."""

    name = fields.String(required=True)
    address = fields.String(required=True)
    email = fields.String(required=True)


class ZoneSchema(Schema):
    """A zone (ambito territoriale) as configured."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    sds = fields.String(required=True, metadata={
        "description": "Name of the zone's social-services body (kept for clients; see social_services)"})
    territory = fields.String(required=True, metadata={"description": "The territory shown in the page header"})
    social_services = fields.Nested(SocialServicesSchema, required=True)
    cpi = fields.List(fields.Nested(EmploymentCentreSchema), required=True)
    equipe = fields.Nested(EquipeSchema, required=True)
    specialist_services = fields.List(fields.Nested(ServiceSchema), required=True)
    agenda_visible = fields.Boolean(required=True, metadata={
        "description": "Whether the caller may read this zone's meetings"})


class ZoneListSchema(Schema):
    """Every configured zone."""

    items = fields.List(fields.Nested(ZoneSchema), required=True)
    total = fields.Integer(required=True)


class AgendaItemSchema(Schema):
    """A case on a meeting's agenda."""

    case_id = fields.String(required=True)
    beneficiary = fields.String(required=True)
    codice_fiscale = fields.String(required=True, allow_none=True)
    services = fields.List(fields.String(), required=True, metadata={"description": "Specialist services invited"})
    reason = fields.String(required=True, metadata={"description": "prima_valutazione or modifica_sostanziale"})


class MeetingSchema(Schema):
    """An equipe meeting with the part of its agenda the caller may see."""

    id = fields.String(required=True)
    zone = fields.String(required=True)
    scheduled_at = LocalDateTime(required=True)
    cutoff_at = LocalDateTime(required=True, metadata={"description": "Cases arriving later go to the next meeting"})
    location = fields.String(required=True, allow_none=True)
    status = fields.String(required=True, metadata={"description": "planned, convened, failed"})
    invited_services = fields.List(fields.String(), required=True, attribute="services")
    agenda = fields.List(fields.Nested(AgendaItemSchema), required=True, attribute="items")
    hidden = fields.Integer(required=True, metadata={"description": "Cases on the agenda the caller may not see"})


class MeetingListSchema(Schema):
    """The next meetings of a zone, soonest first."""

    items = fields.List(fields.Nested(MeetingSchema), required=True)
    total = fields.Integer(required=True)

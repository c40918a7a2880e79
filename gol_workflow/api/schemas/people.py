"""Schemas of the data subject's rights: the accesses to one person's data."""

from __future__ import annotations

from marshmallow import Schema, fields


class AccessSchema(Schema):
    """One read or change of the person's data."""

    at = fields.DateTime(required=True)
    actor = fields.String(required=True, metadata={"description": "username (`system` for the service)"})
    actor_name = fields.String(required=True, metadata={"description": "full name, or `Sistema`"})
    action = fields.String(required=True, metadata={"description": "audit action code"})
    label = fields.String(required=True, metadata={"description": "the action in Italian"})
    case_id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "`lettura` or `modifica`"})


class AccessListSchema(Schema):
    """Every access to one person's data, newest first."""

    items = fields.List(fields.Nested(AccessSchema), required=True)
    total = fields.Integer(required=True)

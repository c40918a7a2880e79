"""Schemas of deployed processes and the ones the caller may start."""

from __future__ import annotations

from marshmallow import Schema, fields

from .common import LocalDateTime


class VersionSchema(Schema):
    """One deployed, immutable version with its instances per status."""

    id = fields.Integer(required=True, metadata={"description": "Version id (e.g. the target of a migration)"})
    version = fields.Integer(required=True, metadata={"description": "Version number within the process"})
    name = fields.String(required=True)
    content_hash = fields.String(required=True, metadata={"description": "SHA-256 of the version's files"})
    main_file = fields.String(required=True)
    deployed_by = fields.String(required=True)
    deployed_at = LocalDateTime(required=True)
    instances = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True, attribute="counts",
                            metadata={"description": "Instances on this version per status"})
    total = fields.Integer(required=True)
    active = fields.Integer(required=True, metadata={"description": "Instances not ended yet"})


class ProcessSchema(Schema):
    """A process with every deployed version, newest first."""

    id = fields.String(required=True, attribute="process_id")
    name = fields.String(required=True)
    versions = fields.List(fields.Nested(VersionSchema), required=True)


class ProcessListSchema(Schema):
    """Every deployed process."""

    items = fields.List(fields.Nested(ProcessSchema), required=True)
    total = fields.Integer(required=True)


class StartableSchema(Schema):
    """A process the caller may start, with its start form."""

    process = fields.String(required=True, attribute="process_id")
    name = fields.String(required=True)
    form = fields.Dict(required=True, allow_none=True, metadata={
        "description": "JSON Schema of the start data; `x-options` fields list the caller's choices as oneOf"})


class StartableListSchema(Schema):
    """The processes the caller may start."""

    items = fields.List(fields.Nested(StartableSchema), required=True)
    total = fields.Integer(required=True)

"""Schemas of BPMN messages sent from outside."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .common import JsonObject, Text, no_control_characters

MAX_CORRELATION = 500  # the canonical correlation text is stored in 512 characters


def _flat_and_short(correlation: dict[str, Any]) -> None:
    if any(isinstance(v, dict | list) or v is None for v in correlation.values()):
        raise ValidationError("Correlation values must be strings, numbers or booleans.")
    if len(json.dumps(correlation, ensure_ascii=False)) > MAX_CORRELATION:
        raise ValidationError(f"The correlation is too long (at most {MAX_CORRELATION} characters).")


class MessageBodySchema(Schema):
    """A message for the instance waiting for it."""

    name = Text(required=True, validate=validate.Length(min=1, max=255),
                metadata={"description": "The BPMN message name"})
    correlation = JsonObject(required=True, validate=_flat_and_short, metadata={
        "description": "Correlation properties, e.g. {\"case_id\": \"...\"}", "example": {"case_id": "..."}})
    instance = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "Administrators: the instance to deliver to, for a message that carries no correlation "
                       "(then `correlation` may be empty); 409 if that instance does not wait for the message"})
    payload = fields.Raw(load_default=None, allow_none=True, validate=no_control_characters,
                         metadata={"description": "Handed to the receiving instance: an object, checked against the schema declared "
                                     "for the message (400 with `errors` by `payload.…` field); the correlation "
                                     "properties are added to it, and a payload contradicting them is refused"})


    @validates_schema
    def _correlated_or_addressed(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("correlation") and data.get("instance") is None:
            raise ValidationError("At least one correlation property is required (e.g. case_id).", "correlation")


class DeliverySchema(Schema):
    """Where the message went."""

    delivered_to = fields.String(required=True, allow_none=True, metadata={
        "description": "The instance that received it, or null when it was kept for later"})
    buffered = fields.Boolean(required=True, metadata={
        "description": "True when nobody waited yet: the first instance to wait for it receives it"})

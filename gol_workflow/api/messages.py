"""`/api/v1/messages`: BPMN messages from outside (e.g. another system reporting on a case)."""

from __future__ import annotations

from typing import Any

from ..services.integrations import messages as message_service
from .context import actor, runtime
from .openapi import Blueprint
from .schemas.messages import DeliverySchema, MessageBodySchema

bp = Blueprint("messages", __name__, url_prefix="/api/v1/messages", description="Messages to waiting instances")


@bp.post("")
@bp.arguments(MessageBodySchema)
@bp.response(200, DeliverySchema)
@bp.problems(400, 403, 404, 409)
def send(body: dict[str, Any]) -> message_service.DeliveryResult:
    """Deliver a message to the instance waiting for it, or keep it until one waits.

    Who may send each message, and the JSON Schema its payload must satisfy, are declared in
    `processes/messages.toml`; a message not declared there only administrators may send.
    403 for a sender not declared (or not following the case), 400 with `errors` by field
    (`payload.…`) for a payload the declaration refuses: either way nothing is delivered or kept.
    """
    instance = str(body["instance"]) if body.get("instance") is not None else None
    return message_service.send_message(runtime(), body["name"], body["correlation"], body["payload"], actor(),
                                        instance)

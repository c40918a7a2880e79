"""Delivering BPMN messages from outside (API, web actions) to the instance that waits for them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..domain.errors import Forbidden
from ..domain.model import Actor
from ..engine.runner import correlation_text
from . import authorization
from .runtime import Runtime
from .stepping import deliver_to


@dataclass(frozen=True)
class DeliveryResult:
    """Where a message went: an instance, or the buffer until one waits for it."""

    delivered_to: str | None
    buffered: bool


def send_message(
    rt: Runtime, name: str, correlation: Mapping[str, Any], payload: Any, actor: Actor
) -> DeliveryResult:
    """Deliver a message by name and correlation; keep it if nobody waits yet."""
    now = rt.now()
    key = correlation_text(correlation)
    if isinstance(payload, Mapping):
        # The waiting process reads its correlation from the payload: carry it there too.
        payload = {**correlation, **payload}
    with rt.uow() as uow:
        case_id = correlation.get("case_id")
        if not (actor.is_admin or actor.role == "system"):
            case = uow.instances.header(str(case_id)) if case_id is not None else None
            if case is None or not authorization.can_see_case(actor, case):
                raise Forbidden("you may only send messages about cases you follow")
        targets = uow.instances.subscribers(name, key)
        if not targets:
            uow.instances.buffer_message(
                {"name": name, "correlation": key, "payload": payload, "sender_instance_id": None, "created_at": now}
            )
            uow.audit.record(now, actor.username, "message.buffered", str(case_id) if case_id else None,
                             data={"message": name, "correlation": key})
            uow.commit()
            return DeliveryResult(None, True)
        target = sorted(targets)[0]
        deliver_to(rt, uow, target, name, payload, now, actor, hops=0)
        uow.commit()
    return DeliveryResult(target, False)

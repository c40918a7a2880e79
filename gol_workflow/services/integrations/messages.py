"""Delivering BPMN messages from outside (API, web actions) to the instance that waits for them.

Who may send a message and what its payload must be are declared in `processes/messages.toml`
(see `message_policy`). Everything is checked before anything is written: a refused message is
neither delivered nor kept, and never puts an instance in error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from ...domain.model import Actor
from ...engine.runner import correlation_text
from ...forms.validation import validate
from ...persistence.uow import UnitOfWork
from ..access import authorization
from .message_policy import MessagePolicy, undeclared
from ..workflow.runtime import Runtime
from ..workflow.stepping import deliver_to


@dataclass(frozen=True)
class DeliveryResult:
    """Where a message went: an instance, or the buffer until one waits for it."""

    delivered_to: str | None
    buffered: bool


def policy_for(rt: Runtime, uow: UnitOfWork, name: str, target: str | None) -> MessagePolicy:
    """The declaration of a message: the waiting instance's version's, else the newest versions' that wait for it."""
    if target is not None:
        header = uow.instances.header(target)
        if header is not None:
            version = rt.processes.get(uow, int(header["process_version_id"]))
            if name in version.compiled.caught_messages:
                return version.messages.get(name) or undeclared(name)
    for row in sorted(uow.versions.latest_headers(), key=lambda r: r["process_id"]):
        version = rt.processes.get(uow, int(row["id"]))
        if name in version.messages:
            return version.messages[name]
    return undeclared(name)


def _authorise(uow: UnitOfWork, policy: MessagePolicy, correlation: Mapping[str, Any], actor: Actor) -> None:
    if authorization.is_admin(actor):
        return
    if actor.role not in policy.roles:
        raise Forbidden(f"you may not send the message {policy.name!r}")
    case_id = correlation.get("case_id")
    case = uow.instances.header(str(case_id)) if case_id is not None else None
    if case is None or not authorization.can_see_case(actor, case):
        raise Forbidden("you may only send messages about cases you follow")


def _addressed(uow: UnitOfWork, instance: str, name: str, actor: Actor) -> str:
    """The instance an administrator addresses a message to, if it waits for that message."""
    authorization.require_admin(actor)
    if uow.instances.header(instance) is None:
        raise NotFound(f"instance {instance} not found")
    if not any(waited == name for waited, _ in uow.instances.subscriptions_of(instance)):
        raise InvalidState(f"the instance is not waiting for message {name!r}")
    return instance


def checked_payload(policy: MessagePolicy, correlation: Mapping[str, Any], payload: Any) -> dict[str, Any]:
    """The payload the waiting process receives (carrying the correlation), or ValidationFailed with per-field errors."""
    if not isinstance(payload, Mapping):
        raise ValidationFailed("the payload must be an object",
                               {"payload": ["Must be an object carrying the correlation properties (e.g. case_id)."]})
    clashes = {f"payload.{key}": [f"Differs from the correlation ({key}={value!r})."]
               for key, value in correlation.items() if key in payload and payload[key] != value}
    if clashes:
        raise ValidationFailed("the payload contradicts the correlation", clashes)
    merged = {**correlation, **payload}
    if policy.schema is not None:
        # The correlation rides along in every payload: only a schema that names it checks it.
        declared = policy.schema.get("properties") or {}
        checked = {k: v for k, v in merged.items() if k in declared or k not in correlation}
        errors = validate(policy.schema, checked)
        if errors:
            raise ValidationFailed(f"the payload of {policy.name!r} is not valid",
                                   {"payload" if path == "_form" else f"payload.{path}": messages
                                    for path, messages in errors.items()})
    return merged


def send_message(
    rt: Runtime, name: str, correlation: Mapping[str, Any], payload: Any, actor: Actor, instance: str | None = None
) -> DeliveryResult:
    """Deliver a message by name and correlation; keep it if nobody waits yet. Checked first, written only if allowed.

    `instance` (administrators) addresses one instance, for a message that carries no correlation.
    """
    now = rt.now()
    key = correlation_text(correlation)
    with rt.uow() as uow:
        if instance is not None:
            target: str | None = _addressed(uow, instance, name, actor)
        else:
            targets = uow.instances.subscribers(name, key)
            target = sorted(targets)[0] if targets else None
        policy = policy_for(rt, uow, name, target)
        _authorise(uow, policy, correlation, actor)
        payload = checked_payload(policy, correlation, payload)
        case_id = correlation.get("case_id")
        if target is None:
            uow.instances.buffer_message(
                {"name": name, "correlation": key, "payload": payload, "sender_instance_id": None, "created_at": now}
            )
            uow.audit.record(now, actor.username, "message.buffered", str(case_id) if case_id else None,
                             data={"message": name, "correlation": key})
            uow.commit()
            return DeliveryResult(None, True)
        deliver_to(rt, uow, target, name, payload, now, actor, hops=0)
        uow.commit()
    return DeliveryResult(target, False)

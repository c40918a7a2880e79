"""Who may do what: deny by default, decided from role, zones, assignment and invitations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...domain.errors import Forbidden, NotFound
from ...domain.model import Actor
from ...engine.camunda_assignment import Candidates
from ...persistence.case_list import CaseScope
from ...persistence.inbox_search import InboxScope
from . import lanes, roles
from .roles import Roles



def _roles() -> Roles:
    return roles.current()


def role_names() -> tuple[str, ...]:
    """Every declared role (the role file's), in its order."""
    return _roles().names()


def operator_roles() -> frozenset[str]:
    """The roles that work cases and tasks (not administrators, not those who only deploy)."""
    return _roles().with_scope("zone", "case", "invitation")


def administrator_roles() -> frozenset[str]:
    """The roles that may do everything (scope "all")."""
    return _roles().with_scope("all")


def administrator_role() -> str:
    """The role the service's own administrative actors act with: the role file's first with scope "all"."""
    return next(name for name in _roles().names() if _roles().scope(name) == "all")


def case_roles() -> tuple[str, ...]:
    """The roles whose people cases are assigned to (scope "case"), in the role file's order."""
    return tuple(name for name in _roles().names() if _roles().scope(name) == "case")


def _privileged(actor: Actor) -> bool:
    return _roles().scope(actor.role) == "all"


def is_admin(actor: Actor) -> bool:
    """True for administrators (a role with scope "all") and the service itself."""
    return _privileged(actor)


def is_admin_role(role: str) -> bool:
    """True for a role with scope "all"."""
    return _roles().scope(role) == "all"


def may_deploy(role: str) -> bool:
    """True for a role that validates and deploys process files (administrators always may)."""
    declared = _roles().get(role)
    return is_admin_role(role) or (declared is not None and declared.deploy)


def require_admin(actor: Actor) -> None:
    """Only administrators (and the service itself)."""
    if not _privileged(actor):
        raise Forbidden("this operation is reserved to administrators")


def require_deployer(actor: Actor) -> None:
    """Administrators and process analysts."""
    if not (_privileged(actor) or may_deploy(actor.role)):
        raise Forbidden("deploying processes is reserved to administrators and analysts")


def can_start(actor: Actor, starters: Candidates) -> bool:
    """May this person start a process declaring these starters (in some zone)?"""
    return _privileged(actor) or actor.role in starters.groups or actor.username in starters.users


def require_start(actor: Actor, starters: Candidates, zone: str | None, zoned: bool) -> None:
    """May this person open a new instance of a process with these starters, in this zone?

    `zoned` says whether the process declares a zone for its cases: then a person of a
    zone-bound role opens cases only in their own zones.
    """
    if _privileged(actor):
        return
    if not can_start(actor, starters):
        raise Forbidden("you may not start this process")
    if zoned and _roles().scope(actor.role) in ("zone", "invitation") and zone not in actor.zones:
        raise Forbidden("you may only open cases in your own zones")


def can_see_case(actor: Actor, case: Mapping[str, Any]) -> bool:
    """May this person read this case (an instance row)?"""
    if _privileged(actor):
        return True
    scope = _roles().scope(actor.role)
    if scope == "zone":
        return case.get("zone") in actor.zones
    if scope == "case":
        return bool(case.get("case_manager")) and case.get("case_manager") == actor.username
    if scope == "invitation":
        services = set(case.get("specialist_services") or [])
        return case.get("zone") in actor.zones and bool(services & set(actor.services))
    return False


def _names(stored: Any) -> frozenset[str]:
    """Names stored as `,a,b,` text (or given as a list)."""
    if stored is None:
        return frozenset()
    if isinstance(stored, str):
        return frozenset(part for part in stored.split(",") if part)
    return frozenset(stored)


def is_named(actor: Actor, task: Mapping[str, Any]) -> bool:
    """Does the task name this person (camunda:candidateUsers)?"""
    return actor.username in _names(task.get("users"))


def is_candidate(actor: Actor, task: Mapping[str, Any]) -> bool:
    """Is this person among those the task is for: by role (its lane's or its own) or by name?"""
    if is_named(actor, task):
        return True
    if task.get("roles") is not None:
        return actor.role in _names(task.get("roles"))
    return actor.role in lanes.current().roles_of(task.get("lane"))  # a task stored before roles were


def can_work_task(actor: Actor, task: Mapping[str, Any], case: Mapping[str, Any] | None) -> bool:
    """May this person see and complete this inbox task?

    A person the task names works it wherever it is; a role works it within its scope. A task
    without a zone (its process declares none) is scoped by its roles alone.
    """
    if _privileged(actor) or is_named(actor, task):
        return True
    if not is_candidate(actor, task):
        return False
    if task.get("participant") and task["participant"] not in participants_of(actor):
        return False  # a participant's own task (an equipe confirmation) is only in that participant's queue
    scope = _roles().scope(actor.role)
    if scope == "zone":
        return task.get("zone") is None or task.get("zone") in actor.zones
    if case is None:
        return False
    return can_see_case(actor, case)


def require_case(actor: Actor, case: Mapping[str, Any]) -> None:
    """Raise unless the person may read the case."""
    if not can_see_case(actor, case):
        raise Forbidden("you may not see this case")


def require_task(actor: Actor, task: Mapping[str, Any], case: Mapping[str, Any] | None) -> None:
    """Raise NotFound unless the person may work the task (its existence is not revealed)."""
    if not can_work_task(actor, task, case):
        raise NotFound("task not found")


def participants_of(actor: Actor) -> tuple[str, ...]:
    """The participants whose own tasks this person works: those their role stands for, or their services
    (the role file's `participants` and `participant_services`)."""
    role = _roles().get(actor.role)
    if role is None:
        return ()
    own = set(role.participants)
    if role.participant_services:
        own |= {s for s in actor.services if s not in _roles().stood_for()}
    return tuple(sorted(own))


def lanes_for(role: str) -> tuple[str, ...]:
    """The lanes whose tasks a role works (in the processes folder's lane file)."""
    return lanes.current().lanes_for(role)


def inbox_scope(actor: Actor) -> InboxScope:
    """The same rules as `can_work_task`, expressed for a query over the inbox table."""
    if _privileged(actor):
        return InboxScope(everything=True)
    scope = _roles().scope(actor.role)
    if scope not in ("zone", "case", "invitation"):
        return InboxScope()
    zones = tuple(sorted(actor.zones))
    common = {"kind": scope, "role": actor.role, "user": actor.username, "lanes": lanes_for(actor.role),
              "participants": participants_of(actor)}
    if scope == "zone":
        return InboxScope(**common, zones=zones)
    if scope == "case":
        return InboxScope(**common, case_manager=actor.username)
    return InboxScope(**common, zones=zones, services=tuple(sorted(actor.services)))


def case_scope(actor: Actor) -> CaseScope:
    """The same rules as `can_see_case`, expressed for a query over the case records."""
    if _privileged(actor):
        return CaseScope(everything=True)
    zones = tuple(sorted(actor.zones))
    scope = _roles().scope(actor.role)
    if scope == "zone":
        return CaseScope(zones=zones)
    if scope == "case":
        return CaseScope(case_manager=actor.username)
    if scope == "invitation":
        return CaseScope(zones=zones, services=tuple(sorted(actor.services))) if actor.services else CaseScope()
    return CaseScope()


def can_see_agenda(actor: Actor, zone: str) -> bool:
    """May this person read the equipe agenda of a zone?"""
    if _privileged(actor):
        return True
    return _roles().scope(actor.role) in ("zone", "invitation") and zone in actor.zones


def agenda_zones(actor: Actor, all_zones: list[str]) -> list[str]:
    """The zones whose equipe agenda this person may read (`can_see_agenda` of each, the role looked up once)."""
    if _privileged(actor):
        return list(all_zones)
    if _roles().scope(actor.role) not in ("zone", "invitation"):
        return []
    return [zone for zone in all_zones if zone in actor.zones]


# What may be done to a case outside its tasks is declared per role in the role file
# (`actions`); each role only on the cases it may see. Deny by default: an action no role lists
# is refused to everyone, and seeing a case never lets anyone act on it by itself.
# (Messages from outside are declared per message in processes/messages.toml.)
# Repairs of an instance (suspend, resume, terminate, retry, edit data, migrate, batches) are
# an administrators' area: `require_admin`, 403 to every other role whatever the case.


def may(actor: Actor, action: str, case: Mapping[str, Any]) -> bool:
    """May this person do this declared action to this case (a header they may see)?"""
    if action not in roles.ACTIONS:
        return False
    if _privileged(actor):
        return True
    role = _roles().get(actor.role)
    return role is not None and action in role.actions and can_see_case(actor, case)


def require_action(actor: Actor, action: str, case: Mapping[str, Any]) -> None:
    """Raise Forbidden unless `may(actor, action, case)`."""
    if not may(actor, action, case):
        raise Forbidden(f"you may not do {action!r} on this case")


def can_request_monitoring(actor: Actor, case: Mapping[str, Any]) -> bool:
    """CPI and SdS operators of the case's zone, the ATS case manager assigned to it, administrators."""
    return may(actor, "case.request_monitoring", case)


def indicator_zones(actor: Actor, all_zones: list[str]) -> list[str]:
    """The zones whose indicators (aggregates only) this person may read: all for administrators."""
    if _privileged(actor):
        return list(all_zones)
    if _roles().has(actor.role, roles.READS_AGGREGATES):
        return [zone for zone in all_zones if zone in actor.zones]
    return []


def can_read_service_indicators(actor: Actor) -> bool:
    """The whole service's indicators (every zone together): administrators only."""
    return _privileged(actor)


def can_keep_meeting_register(actor: Actor, zone: str) -> bool:
    """The operators' meetings register of a zone: roles that keep it in their zones (the role file), administrators."""
    return _privileged(actor) or (_roles().has(actor.role, roles.KEEPS_MEETING_REGISTER) and zone in actor.zones)

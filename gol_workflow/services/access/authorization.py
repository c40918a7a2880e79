"""Who may do what: deny by default, decided from role, zones, assignment and invitations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...domain.errors import Forbidden, NotFound
from ...domain.model import Actor
from ...persistence.case_list import CaseScope
from ...persistence.inbox_search import InboxScope

ROLES = ("cpi", "sds", "specialist", "ats", "admin", "analyst")
OPERATOR_ROLES = frozenset(ROLES) - {"admin", "analyst"}  # the roles that work cases and tasks

# Which roles work the tasks of each lane (lane names as drawn in the diagrams).
LANE_ROLES: dict[str, frozenset[str]] = {
    "CPI": frozenset({"cpi"}),
    "Equipe multidisciplinare": frozenset({"cpi", "sds", "specialist"}),
    "ATS": frozenset({"ats"}),
    "Servizi sociali": frozenset({"sds"}),
}

# Which roles may start which processes (others are started by the service itself).
START_ROLES: dict[str, frozenset[str]] = {"percorso4": frozenset({"cpi"})}

ZONED_ROLES = frozenset({"cpi", "sds", "specialist"})

# The equipe participants the whole role stands for; a specialist service is its own participant
# (its id), worked by the referents of that service only.
PARTICIPANT_ROLES: dict[str, str] = {"centro_impiego": "cpi", "servizio_sociale": "sds"}


def _privileged(actor: Actor) -> bool:
    return actor.role in ("admin", "system")


def require_admin(actor: Actor) -> None:
    """Only administrators (and the service itself)."""
    if not _privileged(actor):
        raise Forbidden("this operation is reserved to administrators")


def require_deployer(actor: Actor) -> None:
    """Administrators and process analysts."""
    if not (_privileged(actor) or actor.role == "analyst"):
        raise Forbidden("deploying processes is reserved to administrators and analysts")


def require_start(actor: Actor, process_id: str, data: Mapping[str, Any]) -> None:
    """May this person open a new instance of this process in this zone?"""
    if _privileged(actor):
        return
    if actor.role not in START_ROLES.get(process_id, frozenset()):
        raise Forbidden("you may not start this process")
    if data.get("zona") not in actor.zones:
        raise Forbidden("you may only open cases in your own zones")


def can_see_case(actor: Actor, case: Mapping[str, Any]) -> bool:
    """May this person read this case (an instance row)?"""
    if _privileged(actor):
        return True
    role = actor.role
    if role in ("cpi", "sds"):
        return case.get("zone") in actor.zones
    if role == "ats":
        return bool(case.get("case_manager")) and case.get("case_manager") == actor.username
    if role == "specialist":
        services = set(case.get("specialist_services") or [])
        return case.get("zone") in actor.zones and bool(services & set(actor.services))
    return False


def can_work_task(actor: Actor, task: Mapping[str, Any], case: Mapping[str, Any] | None) -> bool:
    """May this person see and complete this inbox task?"""
    if _privileged(actor):
        return True
    lane_roles = LANE_ROLES.get(task.get("lane") or "", frozenset())
    if actor.role not in lane_roles:
        return False
    if task.get("participant") and task["participant"] not in participants_of(actor):
        return False
    if actor.role in ("cpi", "sds"):
        return task.get("zone") in actor.zones
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
    """The equipe participants whose own tasks this person works (their role's, or their services)."""
    if actor.role == "specialist":
        return tuple(sorted(s for s in actor.services if s not in PARTICIPANT_ROLES))
    return tuple(sorted(p for p, role in PARTICIPANT_ROLES.items() if role == actor.role))


def lanes_for(role: str) -> tuple[str, ...]:
    """The lanes whose tasks a role works."""
    return tuple(sorted(lane for lane, roles in LANE_ROLES.items() if role in roles))


def inbox_scope(actor: Actor) -> InboxScope:
    """The same rules as `can_work_task`, expressed for a query over the inbox table."""
    if _privileged(actor):
        return InboxScope(everything=True)
    lanes = lanes_for(actor.role)
    zones = tuple(sorted(actor.zones))
    participants = participants_of(actor)
    if actor.role in ("cpi", "sds"):
        return InboxScope(zoned_lanes=lanes, zones=zones, participants=participants)
    if actor.role == "ats":
        return InboxScope(managed_lanes=lanes, case_manager=actor.username, participants=participants)
    if actor.role == "specialist":
        return InboxScope(invited_lanes=lanes, zones=zones, services=tuple(sorted(actor.services)),
                          participants=participants)
    return InboxScope()


def case_scope(actor: Actor) -> CaseScope:
    """The same rules as `can_see_case`, expressed for a query over the case records."""
    if _privileged(actor):
        return CaseScope(everything=True)
    zones = tuple(sorted(actor.zones))
    if actor.role in ("cpi", "sds"):
        return CaseScope(zones=zones)
    if actor.role == "ats":
        return CaseScope(case_manager=actor.username)
    if actor.role == "specialist":
        return CaseScope(zones=zones, services=tuple(sorted(actor.services))) if actor.services else CaseScope()
    return CaseScope()


def can_see_agenda(actor: Actor, zone: str) -> bool:
    """May this person read the equipe agenda of a zone?"""
    if _privileged(actor):
        return True
    return actor.role in ZONED_ROLES and zone in actor.zones


def agenda_zones(actor: Actor, all_zones: list[str]) -> list[str]:
    """The zones whose equipe agenda this person may read."""
    return [zone for zone in all_zones if can_see_agenda(actor, zone)]


def can_start(actor: Actor, process_id: str) -> bool:
    """May this person open cases of this process at all (in some zone)?"""
    return _privileged(actor) or actor.role in START_ROLES.get(process_id, frozenset())


# What may be done to a case outside its tasks, and by which roles besides administrators and
# the service; each role only on the cases it may see. Deny by default: an action not listed
# here is refused to everyone, and seeing a case never lets anyone act on it by itself.
# (Messages from outside are declared per message in processes/messages.toml.)
CASE_ACTIONS: dict[str, frozenset[str]] = {
    # a monitoring in itinere (Percorso 4, step 6): the CPI and SdS of the zone, the case manager
    "case.request_monitoring": frozenset({"cpi", "sds", "ats"}),
    # attaching a file: those who run the case; an invited specialist service only reads it
    "case.attach": frozenset({"cpi", "sds", "ats"}),
}
# Repairs of an instance (suspend, resume, terminate, retry, edit data, migrate, batches) are
# an administrators' area: `require_admin`, 403 to every other role whatever the case.


def may(actor: Actor, action: str, case: Mapping[str, Any]) -> bool:
    """May this person do this declared action to this case (a header they may see)?"""
    allowed = CASE_ACTIONS.get(action)
    if allowed is None:
        return False
    if _privileged(actor):
        return True
    return actor.role in allowed and can_see_case(actor, case)


def require_action(actor: Actor, action: str, case: Mapping[str, Any]) -> None:
    """Raise Forbidden unless `may(actor, action, case)`."""
    if not may(actor, action, case):
        raise Forbidden(f"you may not do {action!r} on this case")


def can_request_monitoring(actor: Actor, case: Mapping[str, Any]) -> bool:
    """CPI and SdS operators of the case's zone, the ATS case manager assigned to it, administrators."""
    return may(actor, "case.request_monitoring", case)

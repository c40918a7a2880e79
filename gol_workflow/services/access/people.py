"""How people and services are named to operators: full names for usernames, zone names for service codes."""

from __future__ import annotations

import time
from collections.abc import Iterable

from ...domain import labels
from ..workflow.runtime import Runtime

NAMES_TTL = 60.0  # accounts change rarely; pages name people often


def display_names(rt: Runtime) -> dict[str, str]:
    """Username -> the name operators know the person by (read again at most every NAMES_TTL seconds)."""
    cached = rt.extras.get("people_display_names")
    if cached and time.monotonic() - cached[0] < NAMES_TTL:
        return dict(cached[1])
    with rt.uow(write=False) as uow:
        names = {row["username"]: row["full_name"] or row["username"] for row in uow.users.list_all()}
    rt.extras["people_display_names"] = (time.monotonic(), names)
    rt.extras.pop("people_not_accounts", None)
    return names


def names_for(rt: Runtime, usernames: Iterable[str | None]) -> dict[str, str]:
    """Username -> display name, read again at once when one of `usernames` is not known yet (a new account)."""
    names = display_names(rt)
    wanted = {u for u in usernames if u and u not in labels.SYSTEM_ACTORS}
    # A name that was no account at the last read (a command-line actor) costs no read on every page.
    unknown = wanted - names.keys() - rt.extras.get("people_not_accounts", frozenset())
    if unknown:
        rt.extras.pop("people_display_names", None)
        names = display_names(rt)
        rt.extras["people_not_accounts"] = frozenset(
            rt.extras.get("people_not_accounts", frozenset()) | (unknown - names.keys()))
    return names


def person(rt: Runtime, username: str | None) -> str:
    """A person's display name; the service itself is "Sistema", a command-line administrator "Amministrazione"."""
    if not username:
        return ""
    if username in labels.SYSTEM_ACTORS:
        return labels.SYSTEM_LABEL
    return display_names(rt).get(username) or labels.ADMINISTRATION_LABEL


def author(rt: Runtime, action: str, username: str) -> str:
    """Who an event in a case's history is by: "Sistema" for what the service does on its own."""
    if labels.is_system(action, username):
        return labels.SYSTEM_LABEL
    return person(rt, username)


def service(rt: Runtime, service_id: str, zone_id: str | None = None) -> str:
    """A specialist service's name from the zone files (the given zone first, then any zone)."""
    zones = [rt.zones[zone_id]] if zone_id in rt.zones else []
    for zone in zones + list(rt.zones.values()):
        found = zone.service(service_id)
        if found is not None:
            return found.name
    return service_id.replace("_", " ").capitalize()

"""Choices for form fields that depend on the case, the zone or the person (`x-options` in a schema).

Each option source is a function registered on the runtime under its name; the built-in
ones cover the shipped forms, and other components (the ATS booking agenda, for example)
replace a source by registering their own function under the same name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ...domain.model import Actor
from ..access import authorization
from ...persistence.uow import UnitOfWork
from .runtime import Runtime

Options = list[tuple[str, str]]
WEEKDAY_LABELS = ("lun", "mar", "mer", "gio", "ven", "sab", "dom")
SLOT_WEEKS = 4
_REGISTRY = "form_option_sources"


@dataclass(frozen=True)
class OptionContext:
    """What a source may use to decide the choices."""

    actor: Actor
    zone: str | None
    case: Mapping[str, Any] | None
    now: datetime


OptionSource = Callable[[Runtime, UnitOfWork, OptionContext], Options]


def register_option_source(rt: Runtime, name: str, source: OptionSource) -> None:
    """Install (or replace) the function that lists the choices of `x-options: name`."""
    rt.extras.setdefault(_REGISTRY, {})[name] = source


def sources_in(schema: Mapping[str, Any]) -> set[str]:
    """Every `x-options` name a form uses, nested groups included."""
    found: set[str] = set()
    for node in _walk(schema):
        if isinstance(node.get("x-options"), str):
            found.add(node["x-options"])
    return found


def _walk(node: Any) -> Iterator[Mapping[str, Any]]:
    if not isinstance(node, Mapping):
        return
    yield node
    for child in (node.get("properties") or {}).values():
        yield from _walk(child)
    if isinstance(node.get("items"), Mapping):
        yield from _walk(node["items"])


def options_for(rt: Runtime, uow: UnitOfWork, schema: Mapping[str, Any] | None, ctx: OptionContext) -> dict[str, Options]:
    """The choices of every dynamic field of a form, by source name."""
    if not schema:
        return {}
    sources: dict[str, OptionSource] = {**_BUILTIN, **rt.extras.get(_REGISTRY, {})}
    result: dict[str, Options] = {}
    for name in sorted(sources_in(schema)):
        source = sources.get(name)
        result[name] = source(rt, uow, ctx) if source is not None else []
    return result


def allowed_values(options: Mapping[str, Options]) -> dict[str, list[str]]:
    """The values validation accepts for each source."""
    return {name: [value for value, _ in choices] for name, choices in options.items()}


def _zones(rt: Runtime, uow: UnitOfWork, ctx: OptionContext) -> Options:
    actor = ctx.actor
    ids = sorted(rt.zones) if authorization.is_admin(actor) else sorted(actor.zones)
    return [(z, rt.zones[z].name if z in rt.zones else z) for z in ids]


def _case_managers(rt: Runtime, uow: UnitOfWork, ctx: OptionContext) -> Options:
    users = [u for role in authorization.case_roles() for u in uow.users.active_with_role(role)]
    return [
        (u["username"], u["full_name"] or u["username"])
        for u in users
        if ctx.zone is None or ctx.zone in (u["zones"] or [])
    ]


def _specialist_services(rt: Runtime, uow: UnitOfWork, ctx: OptionContext) -> Options:
    zone = rt.zones.get(ctx.zone or "")
    return [(s.id, s.name) for s in zone.services] if zone else []


def _ats_slots(rt: Runtime, uow: UnitOfWork, ctx: OptionContext) -> Options:
    zone = rt.zones.get(ctx.zone or "")
    if zone is None:
        return []
    tz = ZoneInfo(rt.settings.timezone)
    local_now = ctx.now.astimezone(tz)
    slots: Options = []
    for offset in range(1, SLOT_WEEKS * 7 + 1):
        day: date = local_now.date() + timedelta(days=offset)
        if day.weekday() not in zone.ats_weekdays:
            continue
        for moment in zone.ats_times:
            when = datetime.combine(day, moment, tzinfo=tz)
            label = f"{WEEKDAY_LABELS[day.weekday()]} {when:%d/%m/%Y} ore {when:%H:%M}"
            slots.append((when.isoformat(), label))
    return slots


_BUILTIN: dict[str, OptionSource] = {
    "zona": _zones,
    "case_manager": _case_managers,
    "servizi_specialistici": _specialist_services,
    "ats_slot": _ats_slots,
}

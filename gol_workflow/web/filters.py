"""Template filters: Italian dates and times in the service's time zone, labels for codes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, request, url_for

from ..domain import labels
from ..services.access import people, roles
from .context import runtime

MONTHS = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
          "ottobre", "novembre", "dicembre")
WEEKDAYS = ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica")
STATUS_LABELS = labels.STATUSES


def role_label(role: str) -> str:
    """A role's Italian label, as the role file gives it (the service itself is "Sistema")."""
    return labels.SYSTEM_LABEL if role == roles.SYSTEM else roles.current().label(role)


def init_app(app: Flask, timezone: str) -> None:
    """Register the filters and globals the templates use."""
    tz = ZoneInfo(timezone)

    def local(value: datetime | None) -> datetime | None:
        return local_time(value, tz)

    def data(value: Any) -> str:
        return date_text(value, tz)

    def data_ora(value: Any) -> str:
        return date_time_text(value, tz)

    def data_estesa(value: datetime | None) -> str:
        moment = local(value)
        if moment is None:
            return ""
        return f"{WEEKDAYS[moment.weekday()]} {moment.day} {MONTHS[moment.month - 1]} {moment.year}"

    def iso(value: datetime | None) -> str:
        moment = local(value)
        return moment.isoformat(timespec="minutes") if moment else ""

    app.jinja_env.filters.update(data=data, data_ora=data_ora, data_estesa=data_estesa, iso=iso,
                                 durata=durata, ruolo=role_label,
                                 stato=lambda s: STATUS_LABELS.get(s, s), zona=zone_name, azione=labels.action,
                                 messaggio=labels.message, persona=person_name, autore=event_author,
                                 servizio=service_name)
    app.jinja_env.globals.update(now=request_now, sprites_url=sprites_url, fixed_url=fixed_url, page_urls=page_urls)


def local_time(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    """A moment in the service's time zone (a naive one is UTC)."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(tz)


def date_text(value: Any, tz: ZoneInfo) -> str:
    """The `data` filter: a date, or a moment's local date, as dd/mm/yyyy ("" for anything else)."""
    if isinstance(value, str):
        value = _parse(value)
    if isinstance(value, datetime):
        value = local_time(value, tz)
    return value.strftime("%d/%m/%Y") if isinstance(value, (date, datetime)) else ""


def date_time_text(value: Any, tz: ZoneInfo) -> str:
    """The `data_ora` filter: a moment as "dd/mm/yyyy ore hh:mm" in local time (a date alone as `data`)."""
    if isinstance(value, str):
        value = _parse(value)
    if not isinstance(value, datetime):
        return date_text(value, tz)
    moment = local_time(value, tz)
    return f"{moment:%d/%m/%Y} ore {moment:%H:%M}" if moment else ""


def page_urls(endpoint: str, params: dict[str, Any]) -> Callable[[int], str]:
    """The addresses of a list's pages from one url_for (`pagina` first, as `url_for(pagina=n, **params)` puts it)."""
    path, _, rest = url_for(endpoint, **params).partition("?")
    tail = f"&{rest}" if rest else ""
    return lambda page: f"{path}?pagina={page}{tail}"


def fixed_url(endpoint: str, **values: str) -> str:
    """url_for for addresses that never change (assets, menu entries), built once per app and prefix."""
    key = (request.script_root, endpoint, tuple(sorted(values.items())))
    cache: dict[tuple[object, ...], str] = current_app.extensions.setdefault("gol_fixed_urls", {})
    found = cache.get(key)
    if found is None:
        found = cache[key] = url_for(endpoint, **values)
    return found


def sprites_url() -> str:
    """The icon sprite sheet's address."""
    return fixed_url("vendor.asset", package="bootstrap-italia", path="svg/sprites.svg")


def request_now() -> datetime:
    """The service clock read once per request (the simulated clock lives in the database)."""
    if "now" not in g:
        g.now = runtime().now()
    return g.now  # type: ignore[no-any-return]


def _parse(value: str) -> datetime | date | str:
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value


def durata(since: datetime | None, until: datetime | None = None) -> str:
    """How long ago, in Italian words ("da 3 giorni")."""
    if since is None:
        return ""
    end = until or request_now()
    seconds = max(0, int((end - since).total_seconds()))
    days = seconds // 86400
    if days >= 1:
        return "da 1 giorno" if days == 1 else f"da {days} giorni"
    hours = seconds // 3600
    if hours >= 1:
        return "da 1 ora" if hours == 1 else f"da {hours} ore"
    minutes = seconds // 60
    return "da meno di un minuto" if minutes < 1 else f"da {minutes} min"


def zone_name(zone_id: str | None) -> str:
    """The display name of a zone."""
    if not zone_id:
        return ""
    zone = runtime().zones.get(zone_id)
    return zone.name if zone else zone_id


def person_name(username: str | None) -> str:
    """A username as operators know the person (full name; "Sistema" for the service)."""
    return people.person(runtime(), username)


def event_author(event: Any) -> str:
    """Who a history event is by: "Sistema" for timers and the service's own steps, else the person's name."""
    return people.author(runtime(), str(event["action"]), str(event["actor"]))


def service_name(service_id: str | None, zone_id: str | None = None) -> str:
    """A specialist service's name, from the zone files."""
    return people.service(runtime(), service_id, zone_id) if service_id else ""

"""The instance list: filters from the URL, counts per status, keyset pages, and the batch form over the same set."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo
from typing import Any

from flask import current_app, render_template, request, url_for
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict, iter_multi_items

from ...domain.errors import ValidationFailed
from ...domain.zones import Zone
from ...services.administration import batch, saved_views
from ...services.administration.instance_queries import (
    COUNT_CAP,
    STATUSES,
    InstanceFilters,
    InstanceSummary,
    Page,
    PageRequest,
    list_instances,
    process_choices,
)
from ..context import actor, runtime
from .blueprint import bp
from .texts import OPERATIONS

PAGE_SIZES = (25, 50, 100)


def _date(value: str | None, problems: list[str], label: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append(f"La data «{label}» non è valida: usare il formato gg/mm/aaaa.")
        return None


def _int(value: str | None) -> int | None:
    """A whole number the database can hold, or None."""
    try:
        number = int(value) if value and len(value) <= 20 else None
        return number if number is not None and abs(number) < 2**63 else None
    except ValueError:
        return None


RECENT_DAYS = (1, 7, 30, 90, 365)  # "started in the last N days", kept relative in a saved view


def filters_from(args: MultiDict[str, str], problems: list[str] | None = None,
                 today: date | None = None) -> InstanceFilters:
    """Instance filters from URL (or form) parameters; unusable values are dropped with a message."""
    problems = problems if problems is not None else []
    statuses = tuple(s for s in args.getlist("stato") if s in STATUSES)
    process_id = (args.get("processo") or "").strip() or None
    recent = _int(args.get("ultimi"))
    started_from = _date(args.get("dal"), problems, "dal")
    if started_from is None and today is not None and recent in RECENT_DAYS:
        started_from = today - timedelta(days=recent)
    return InstanceFilters(
        statuses=statuses,
        process_id=process_id,
        version=_int(args.get("versione")) if process_id else None,
        zone=(args.get("zona") or "").strip() or None,
        beneficiary=(args.get("beneficiario") or "").strip()[:100] or None,
        started_from=started_from,
        started_to=_date(args.get("al"), problems, "al"),
        has_error=args.get("errore") == "1",
        error_element=(args.get("elemento") or "").strip()[:255] or None,
    )


def filter_params(filters: InstanceFilters) -> dict[str, Any]:
    """The filters as URL parameters (for links that keep them)."""
    params: dict[str, Any] = {
        "stato": list(filters.statuses) or None, "processo": filters.process_id, "versione": filters.version,
        "zona": filters.zone, "beneficiario": filters.beneficiary,
        "dal": filters.started_from.isoformat() if filters.started_from else None,
        "al": filters.started_to.isoformat() if filters.started_to else None,
        "errore": "1" if filters.has_error else None, "elemento": filters.error_element,
    }
    return {k: v for k, v in params.items() if v not in (None, "", [])}


@dataclass(frozen=True, slots=True)
class ListedInstance:
    """One row of the list: the instance and its texts, worked out once with the templates' own filters."""

    item: InstanceSummary
    href: str
    zone: str
    started_day: str
    started_moment: str
    next_due: str


@dataclass(frozen=True, slots=True)
class StatusTab:
    """A tab over the list: its status (None: every status), label, address, count as shown and whether chosen."""

    status: str | None
    label: str
    href: str
    count: str
    active: bool


# The zone filter's options by the zones they list: a hundred options are built once, not on every page.
_ZONE_OPTIONS: dict[tuple[tuple[str, str], ...], tuple[dict[str, int], list[str]]] = {}


def zone_options(zones: Mapping[str, Zone], chosen: str | None) -> Markup:
    """The zone filter's <option>s, by zone id, the chosen one selected."""
    names = tuple((zone_id, zones[zone_id].name) for zone_id in sorted(zones))
    built = _ZONE_OPTIONS.get(names)
    if built is None:
        if len(_ZONE_OPTIONS) > 8:
            _ZONE_OPTIONS.clear()
        built = _ZONE_OPTIONS[names] = ({zone_id: i for i, (zone_id, _) in enumerate(names)}, [
            f'<option value="{escape(zone_id)}">{escape(name)}</option>' for zone_id, name in names])
    positions, options = built
    at = positions.get(chosen or "")
    if at is None:
        return Markup("".join(options))
    zone_id, name = names[at]
    return Markup("".join([*options[:at], f'<option value="{escape(zone_id)}" selected>{escape(name)}</option>',
                           *options[at + 1:]]))


def _href(path: str, values: Iterable[tuple[str, Any]]) -> str:
    """`path` with these query values, encoded as url_for encodes them (lists repeated, None left out)."""
    items = [(k, v) for k, v in iter_multi_items(dict(values)) if v is not None]
    return path + "?" + urlencode(items, safe="!$'()*,/:;?@") if items else path


def _count_text(n: int, sampled: bool) -> str:
    if n > COUNT_CAP:
        return f"oltre {COUNT_CAP:,}".replace(",", ".")
    return f"almeno {n}" if sampled else str(n)


def status_tabs(page: Page[InstanceSummary], path: str, params: Mapping[str, Any], size: int,
                label: Callable[[str], str]) -> list[StatusTab]:
    """"Tutti" and one tab per status, each with the other filters kept."""
    base = {k: v for k, v in params.items() if k != "stato"}
    chosen = list(page.filters.statuses)
    every = _count_text(sum(page.counts.values()), page.sampled) if not page.capped else \
        f"oltre {COUNT_CAP:,}".replace(",", ".")
    tabs = [StatusTab(None, "Tutti", _href(path, [("per", size), *base.items()]), every, not chosen)]
    tabs += [StatusTab(status, label(status), _href(path, [("stato", status), ("per", size), *base.items()]),
                       _count_text(n, page.sampled), chosen == [status]) for status, n in page.counts.items()]
    return tabs


def listed(items: Iterable[InstanceSummary], filters: Mapping[str, Callable[..., str]]) -> list[ListedInstance]:
    """The page's rows with their link, zone name and dates as the templates' filters write them."""
    # Every instance page's address is this prefix and the quoted id (built once, not once per row).
    prefix = url_for("admin.instance", instance_id="-")[:-1]
    data, data_ora, zona = filters["data"], filters["data_ora"], filters["zona"]
    return [ListedInstance(i, prefix + quote(i.id, safe="!$&'()*+,/:;=@"), zona(i.zone) if i.zone else "—",
                           data(i.started_at), data_ora(i.started_at),
                           data_ora(i.next_due_at) if i.next_due_at else "") for i in items]


@bp.get("/")
def home() -> Any:
    """The console opens on the instance list."""
    return instances()


@bp.get("/istanze")
def instances() -> str:
    """Every instance, filtered and paged, with counts per status and the batch form."""
    rt, who = runtime(), actor()
    problems: list[str] = []
    today = rt.now().astimezone(ZoneInfo(rt.settings.timezone)).date()
    filters = filters_from(request.args, problems, today)
    size = _int(request.args.get("per")) or PAGE_SIZES[0]
    page_request = PageRequest(size=size if size in PAGE_SIZES else PAGE_SIZES[0],
                               after=request.args.get("dopo") or None, before=request.args.get("prima") or None)
    try:
        page = list_instances(rt, who, filters, page_request)
    except ValidationFailed:
        problems.append("Il collegamento alla pagina non è più valido: si riparte dalla prima pagina.")
        page = list_instances(rt, who, filters, PageRequest(size=page_request.size))
    processes = process_choices(rt, who, page.newest_version)
    template = "admin/_instances.html" if request.headers.get("HX-Request") else "admin/instances.html"
    views = saved_views.list_views(rt, who) if template == "admin/instances.html" else []
    recent = _int(request.args.get("ultimi"))
    path, params, size = url_for("admin.instances"), filter_params(filters), page_request.size
    jinja_filters = current_app.jinja_env.filters
    pages = {name: _href(path, [*cursor, ("per", size), *params.items()]) for name, cursor in (
        ("first", []), ("prev", [("prima", page.prev_cursor)]), ("next", [("dopo", page.next_cursor)]))}
    return render_template(template, views=views, current_query=saved_views.clean_query(
                               request.query_string.decode("utf-8", "replace")),
                           recent=recent if recent in RECENT_DAYS and not request.args.get("dal") else None,
                           recent_days=RECENT_DAYS, page=page, filters=filters, params=params, problems=problems,
                           processes=processes, zone_options=zone_options(rt.zones, filters.zone), statuses=STATUSES,
                           size=size, sizes=PAGE_SIZES, operations=OPERATIONS, max_batch=batch.MAX_INSTANCES,
                           cap=COUNT_CAP, cap_text=f"{COUNT_CAP:,}".replace(",", "."), list_url=path,
                           tabs=status_tabs(page, path, params, size, jinja_filters["stato"]),
                           rows=listed(page.items, jinja_filters), pages=pages)

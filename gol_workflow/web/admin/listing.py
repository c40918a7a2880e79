"""The instance list: filters from the URL, counts per status, keyset pages, and the batch form over the same set."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo
from typing import Any

from flask import render_template, request
from werkzeug.datastructures import MultiDict

from ...domain.errors import ValidationFailed
from ...services.administration import batch, saved_views
from ...services.administration.instance_queries import (
    COUNT_CAP,
    STATUSES,
    InstanceFilters,
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
    processes = process_choices(rt, who)
    template = "admin/_instances.html" if request.headers.get("HX-Request") else "admin/instances.html"
    views = saved_views.list_views(rt, who) if template == "admin/instances.html" else []
    recent = _int(request.args.get("ultimi"))
    return render_template(template, views=views, current_query=saved_views.clean_query(
                               request.query_string.decode("utf-8", "replace")),
                           recent=recent if recent in RECENT_DAYS and not request.args.get("dal") else None,
                           recent_days=RECENT_DAYS, page=page, filters=filters, params=filter_params(filters), problems=problems,
                           processes=processes, zones=sorted(rt.zones), statuses=STATUSES, size=page_request.size,
                           sizes=PAGE_SIZES, operations=OPERATIONS, max_batch=batch.MAX_INSTANCES,
                           cap=COUNT_CAP)

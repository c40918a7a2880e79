"""The case list page: the cases the person may see, with filters, sorting and pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request, url_for

from ..domain import labels
from ..services.cases import case_list
from .context import actor, runtime
from .filters import date_text, request_now, zone_name

bp = Blueprint("case_list", __name__)

# Italian labels of the stored statuses (the filter also takes aperto / chiuso).
STATUS_LABELS = {
    "running": "In corso", "waiting": "In attesa", "error": "In errore", "suspended": "Sospeso",
    "completed": "Concluso", "terminated": "Chiuso d'ufficio",
}
# page parameter -> service sort key
SORTS = {"aggiornato": "updated", "aperto": "opened", "nome": "name", "fine": "end", "equipe": "equipe"}


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


def query_from(args: Any) -> case_list.CaseQuery:
    """The query from URL parameters (unknown values are ignored, not errors)."""
    return case_list.CaseQuery(
        text=args.get("cerca") or None,
        zone=args.get("zona") or None,
        status=args.get("stato") or None,
        step=args.get("passo") or None,
        overdue=args.get("scadute") == "1",
        mine=args.get("miei") == "1",
        sort=SORTS.get(args.get("ordina", ""), "updated"),
        descending=args.get("verso", "desc") != "asc",
        page=_int(args.get("pagina"), 1),
    )


# The status badge's colour; any other status is "primary".
BADGES = {"completed": "success", "error": "danger", "terminated": "secondary", "suspended": "secondary"}


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One row of the list as the page shows it: display texts made once per row, not by filters in the loop."""

    id: str
    href: str
    name: str
    codice_fiscale: str | None
    zone: str
    badge: str
    status: str
    step: str | None
    overdue_since: str  # the earliest due date of its tasks when it has passed, else ""
    outcome: str | None
    case_manager: str
    path_end: str
    updated: str


@bp.get("/casi")
def index() -> str:
    """The cases I may see: mine and my zones', with or without a ready task."""
    rt = runtime()
    page = case_list.list_cases(rt, actor(), query_from(request.args), with_steps=True)
    return render_template("cases/list.html", cases=page, rows=_rows(page.items, ZoneInfo(rt.settings.timezone)),
                           params=_params(page.query), statuses=STATUS_LABELS,
                           sort_names={v: k for k, v in SORTS.items()})


def _rows(items: list[dict[str, Any]], tz: ZoneInfo) -> list[CaseRow]:
    show_url = url_for("cases.show", case_id="__ID__")
    moment = request_now()
    zones: dict[str, str] = {}
    rows = []
    for case in items:
        zone, due, end = case["zone"], case["next_due_at"], case["path_end_at"]
        if zone and zone not in zones:
            zones[zone] = zone_name(zone)
        rows.append(CaseRow(
            id=case["id"], href=show_url.replace("__ID__", case["id"]),
            name=case["beneficiary_name"] or "Beneficiario non indicato", codice_fiscale=case["codice_fiscale"],
            zone=zones[zone] if zone else "—", badge=BADGES.get(case["status"], "primary"),
            status=labels.STATUSES.get(case["status"], case["status"]), step=case["current_step"],
            overdue_since=date_text(due, tz) if due and due < moment else "", outcome=case["outcome"],
            case_manager=case["case_manager_name"] or case["case_manager"] or "—",
            path_end=date_text(end, tz) if end else "—", updated=date_text(case["updated_at"], tz),
        ))
    return rows


def _params(query: case_list.CaseQuery) -> dict[str, Any]:
    """The current filters as URL parameters (for sort links and pagination)."""
    names = {v: k for k, v in SORTS.items()}
    params: dict[str, Any] = {
        "cerca": query.text, "zona": query.zone, "stato": query.status, "passo": query.step,
        "scadute": "1" if query.overdue else None, "miei": "1" if query.mine else None,
        "ordina": None if query.sort == "updated" else names[query.sort],
        "verso": None if query.descending else "asc",
    }
    return {k: v for k, v in params.items() if v}

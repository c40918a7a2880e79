"""The case list page: the cases the person may see, with filters, sorting and pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from ..services.cases import case_list
from .context import actor, runtime

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


@bp.get("/casi")
def index() -> str:
    """The cases I may see: mine and my zones', with or without a ready task."""
    page = case_list.list_cases(runtime(), actor(), query_from(request.args), with_steps=True)
    return render_template("cases/list.html", cases=page, params=_params(page.query),
                           statuses=STATUS_LABELS, sort_names={v: k for k, v in SORTS.items()})


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

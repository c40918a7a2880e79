"""The inbox page: ready tasks the person may work, with filters, sorting, pages and queues."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for

from ..services.workflow import inbox as inbox_service
from .context import actor, runtime

bp = Blueprint("inbox", __name__)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


def query_from(args: Any) -> inbox_service.InboxQuery:
    """The inbox query from URL parameters (unknown values are ignored, not errors)."""
    return inbox_service.InboxQuery(
        zone=args.get("zona") or None,
        element_id=args.get("tipo") or None,
        overdue=args.get("scadute") == "1",
        beneficiary=args.get("cerca") or None,
        queue=args.get("coda", "tutte"),
        sort=args.get("ordina", "attesa"),
        descending=args.get("verso") == "desc",
        page=_int(args.get("pagina"), 1),
    )


@bp.get("/")
def home() -> Response:
    """The inbox is the home page."""
    return redirect(url_for("inbox.index"))


@bp.get("/attivita")
def index() -> str:
    """The ready tasks I may work."""
    page = inbox_service.inbox(runtime(), actor(), query_from(request.args))
    template = "inbox/_results.html" if request.headers.get("HX-Request") else "inbox/index.html"
    return render_template(template, inbox=page, params=_params(page.query))


def _params(query: inbox_service.InboxQuery) -> dict[str, Any]:
    """The current filters as URL parameters (for sort links, queue tabs and pagination)."""
    params: dict[str, Any] = {
        "zona": query.zone, "tipo": query.element_id, "scadute": "1" if query.overdue else None,
        "cerca": query.beneficiary, "coda": None if query.queue == "tutte" else query.queue,
        "ordina": None if query.sort == "attesa" else query.sort, "verso": "desc" if query.descending else None,
    }
    return {k: v for k, v in params.items() if v}

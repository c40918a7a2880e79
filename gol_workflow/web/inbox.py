"""The inbox page: ready tasks the person may work, with filters, sorting, pages and queues."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, g, redirect, render_template, request, url_for

from ..services.access import authorization
from ..services.workflow import inbox as inbox_service
from .context import actor, runtime
from .filters import date_text, date_time_text, durata, person_name, request_now, zone_name

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
    rt = runtime()
    page = inbox_service.inbox(rt, actor(), query_from(request.args))
    template = "inbox/_results.html" if request.headers.get("HX-Request") else "inbox/index.html"
    return render_template(template, inbox=page, rows=_rows(page.items, ZoneInfo(rt.settings.timezone)),
                           params=_params(page.query))


@dataclass(frozen=True, slots=True)
class TaskRow:
    """One row of the inbox as the page shows it: display texts made once per row, not by filters in the loop."""

    id: str
    href: str
    name: str
    beneficiary: str  # the link's text (a placeholder when the task names nobody)
    beneficiary_name: str | None
    codice_fiscale: str | None
    notice: Any  # the case's notice (suspended, in error), or None
    zone: str
    created_at: str  # dd/mm/yyyy ore hh:mm
    created: str
    waiting: str  # "da 3 giorni"
    due: str  # "" when the task has no due date
    overdue: bool
    assignee: str  # "" nobody; the person's name, or "A me" (see `mine`)
    mine: bool
    action: str  # where the row's button posts (claim or release), "" for none
    claims: bool


def _rows(items: list[dict[str, Any]], tz: ZoneInfo) -> list[TaskRow]:
    show_url, claim_url, release_url = (url_for(endpoint, task_id="__ID__")
                                        for endpoint in ("tasks.show", "tasks.claim", "tasks.release"))
    moment = request_now()
    # Who may release a colleague's task: the same rule the service applies.
    me, admin = g.user.username, authorization.is_admin(actor())
    zones: dict[str | None, str] = {}
    rows = []
    for task in items:
        task_id, zone, due, assignee = task["id"], task["zone"], task["due_at"], task["assignee"]
        if zone not in zones:
            zones[zone] = zone_name(zone)
        action = claim_url if not assignee else release_url if assignee == me or admin else ""
        rows.append(TaskRow(
            id=task_id, href=show_url.replace("__ID__", task_id), name=task["name"],
            beneficiary=task["beneficiary_name"] or "Beneficiario non indicato",
            beneficiary_name=task["beneficiary_name"], codice_fiscale=task["codice_fiscale"],
            notice=task["case_notice"], zone=zones[zone], created_at=date_time_text(task["created_at"], tz),
            created=date_text(task["created_at"], tz), waiting=durata(task["created_at"]),
            due=date_text(due, tz) if due else "", overdue=bool(due and due < moment),
            assignee=person_name(assignee) if assignee and assignee != me else "", mine=bool(assignee) and assignee == me,
            action=action.replace("__ID__", task_id), claims=not assignee,
        ))
    return rows


def _params(query: inbox_service.InboxQuery) -> dict[str, Any]:
    """The current filters as URL parameters (for sort links, queue tabs and pagination)."""
    params: dict[str, Any] = {
        "zona": query.zone, "tipo": query.element_id, "scadute": "1" if query.overdue else None,
        "cerca": query.beneficiary, "coda": None if query.queue == "tutte" else query.queue,
        "ordina": None if query.sort == "attesa" else query.sort, "verso": "desc" if query.descending else None,
    }
    return {k: v for k, v in params.items() if v}

"""«Registra un inserimento»: a placement during the path, recorded from the case file."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from ..domain.errors import Forbidden, InvalidState, ValidationFailed
from ..services.cases import placements
from .context import actor, runtime

bp = Blueprint("placements", __name__, url_prefix="/casi")


def _page(case_id: str, values: dict[str, str], errors: dict[str, list[str]], status: int = 200) -> tuple[str, int]:
    return render_template("cases/placement.html", case_id=case_id, kinds=placements.KINDS,
                           sectors=placements.SECTORS, values=values, errors=errors), status


@bp.get("/<case_id>/inserimenti/nuovo")
def new(case_id: str) -> tuple[str, int]:
    """The placement form."""
    if not placements.may_record(runtime(), case_id, actor()):
        abort(404)
    return _page(case_id, {}, {})


@bp.post("/<case_id>/inserimenti/nuovo")
def create(case_id: str) -> Response | tuple[str, int]:
    """Record the placement and go back to the case file."""
    values = {k: request.form.get(k, "") for k in ("kind", "sector", "start_date", "end_date")}
    try:
        placements.record_placement(runtime(), case_id, values, actor())
    except ValidationFailed as exc:
        return _page(case_id, values, exc.errors, 422)
    except Forbidden:
        abort(403)
    except InvalidState:
        flash("L'inserimento si registra dopo l'avvio del percorso di 12 mesi.", "warning")
        return redirect(url_for("cases.show", case_id=case_id))
    flash("Inserimento registrato.", "success")
    return redirect(url_for("cases.show", case_id=case_id))

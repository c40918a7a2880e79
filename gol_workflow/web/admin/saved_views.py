"""Saved views of the instance list: save the current filters under a name, delete one."""

from __future__ import annotations

from flask import Response, flash, redirect, request, url_for

from ...domain.errors import InputRefused
from ...services.administration import saved_views
from ..context import actor, runtime
from .blueprint import ID, bp


@bp.post("/viste")
def save_view() -> Response:
    """Keep the filters the list shows now under a name, and show them."""
    query = request.form.get("filtri") or ""
    try:
        view = saved_views.save_view(runtime(), actor(), request.form.get("nome") or "", query)
    except InputRefused as exc:
        flash({"name-required": "Dare un nome alla vista.", "name-too-long": "Il nome è troppo lungo.",
               "too-many": "Troppe viste salvate: eliminarne qualcuna."}.get(exc.reason, "Vista non salvata."),
              "error")
        return redirect(url_for("admin.instances") + ("?" + saved_views.clean_query(query) if query else ""))
    flash(f"Vista «{view.name}» salvata.", "success")
    return redirect(url_for("admin.instances") + ("?" + view.query if view.query else ""))


@bp.post(f"/viste/<{ID}:view_id>/elimina")
def delete_view(view_id: int) -> Response:
    """Delete one of my views."""
    saved_views.delete_view(runtime(), actor(), view_id)
    flash("Vista eliminata.", "success")
    return redirect(url_for("admin.instances"))

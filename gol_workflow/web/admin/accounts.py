"""The accounts: who may log in, and the people known through single sign-on who wait for a role."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from ...domain.errors import GolError
from ...services.access import authorization, users
from ..context import actor, runtime
from .blueprint import bp


@bp.get("/utenti")
def accounts() -> str:
    """Every account; those waiting for a role first, each with a form to enable it."""
    rt = runtime()
    everyone = users.list_users(rt, actor())
    pending_accounts = [u for u in everyone if u.pending]
    zones = sorted(((z.id, z.name) for z in rt.zones.values()), key=lambda pair: pair[1])
    return render_template("admin/accounts.html", pending_accounts=pending_accounts,
                           others=[u for u in everyone if not u.pending], roles=authorization.role_names(), zones=zones)


@bp.post("/utenti/<username>/abilita")
def enable_account(username: str) -> Response | tuple[str, int]:
    """Give a waiting person a role and zones: from their next login they work in the service."""
    role = request.form.get("role", "")
    zones = request.form.getlist("zones")
    try:
        user = users.enable_pending(runtime(), username, role, zones, actor())
    except GolError:
        flash(f"Non è stato possibile abilitare {username}: scegli un ruolo e zone esistenti "
              "(l'account potrebbe essere già stato abilitato).", "danger")
        return redirect(url_for("admin.accounts"))
    flash(f"{user.username} è abilitato: potrà accedere con le credenziali regionali.", "success")
    return redirect(url_for("admin.accounts"))

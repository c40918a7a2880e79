"""Login and logout with local accounts."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for

from ..services import users
from .context import actor, current_user, runtime
from .security import safe_next, start_session

bp = Blueprint("auth", __name__)


@bp.route("/accesso", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """Show the login form; on POST check the password and open a session."""
    target = safe_next(request.values.get("next"), url_for("inbox.index"))
    if current_user() is not None:
        return redirect(target)
    if request.method == "GET":
        return render_template("auth/login.html", next=target, username="")
    username = request.form.get("username", "").strip()[:150]
    password = request.form.get("password", "")
    try:
        user = users.authenticate(runtime(), username, password, request.remote_addr)
    except users.AccountLocked as exc:
        return render_template("auth/login.html", next=target, username=username, error=exc.message,
                               locked_until=exc.until), 429
    except users.LoginFailed as exc:
        return render_template("auth/login.html", next=target, username=username, error=exc.message), 401
    start_session(user)
    flash(f"Benvenuto, {user.full_name or user.username}.", "success")
    return redirect(target)


@bp.post("/uscita")
def logout() -> Response:
    """Close the session."""
    users.record_logout(runtime(), actor())
    session.clear()
    flash("Sessione chiusa correttamente.", "info")
    return redirect(url_for("auth.login"))


@bp.get("/salute")
def health() -> tuple[dict[str, str], int]:
    """Liveness probe for load balancers (no data)."""
    return {"stato": "ok"}, 200

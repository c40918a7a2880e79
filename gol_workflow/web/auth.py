"""Login and logout with local accounts."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_limiter import RateLimitExceeded

from ..services.access import login_throttle, sessions, users
from . import sessions as web_sessions
from .context import actor, current_user, runtime
from .security import safe_next, start_session
from .throttling import login_requests

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
        with login_requests():
            user = users.authenticate(runtime(), username, password, request.remote_addr)
    except (users.LoginThrottled, RateLimitExceeded) as exc:
        # The same answer whether the username exists or not, and no password was checked.
        wait = exc.retry_after if isinstance(exc, users.LoginThrottled) else 60
        page = render_template("auth/login.html", next=target, username=username, error=login_throttle.THROTTLED
                               if isinstance(exc, RateLimitExceeded) else exc.message, retry_minutes=-(-wait // 60))
        return page, 429, {"Retry-After": str(wait)}
    except users.LoginFailed as exc:
        return render_template("auth/login.html", next=target, username=username, error=exc.message), 401
    start_session(user)
    flash(f"Benvenuto, {user.full_name or user.username}.", "success")
    return redirect(target)


@bp.post("/uscita")
def logout() -> Response:
    """End the session on the server: its cookie stops working, wherever it was copied."""
    who = actor()
    id_hash = web_sessions.end()
    if id_hash is not None:
        sessions.logout(runtime(), id_hash, who)
    flash("Sessione chiusa correttamente.", "info")
    return redirect(url_for("auth.login"))


@bp.get("/salute")
def health() -> tuple[dict[str, str], int]:
    """Liveness probe for load balancers (no data)."""
    return {"stato": "ok"}, 200

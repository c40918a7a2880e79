"""The person's own preferences (how they hear of new and overdue tasks), the header badge and case notices."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, flash, g, redirect, render_template, request, url_for

from ..domain.errors import ValidationFailed
from ..services.cases import case_state
from ..services.mail import notifications
from .context import actor, runtime

bp = Blueprint("preferences", __name__, url_prefix="/preferenze")


@bp.get("")
def show() -> str:
    """The preferences form."""
    prefs = notifications.preferences(runtime(), actor())
    return render_template("preferences/index.html", prefs=prefs, modes=notifications.MODE_LABELS, errors={})


@bp.post("")
def save() -> tuple[str, int] | Response:
    """Store the chosen notification mode and address."""
    who = actor()
    mode = request.form.get("notifiche", "")
    email = request.form.get("email", "").strip()
    try:
        notifications.set_preferences(runtime(), who.username, mode, who, email)
    except ValidationFailed as exc:
        prefs = notifications.Preferences(mode if mode in notifications.MODES else notifications.DIGEST, email)
        return render_template("preferences/index.html", prefs=prefs, modes=notifications.MODE_LABELS,
                               errors=exc.errors), 400
    flash("Preferenze salvate.", "success")
    return redirect(url_for("preferences.show"))


def init_app(app: Flask) -> None:
    """Register the page and the helpers the header and task pages use."""
    app.register_blueprint(bp)

    @app.context_processor
    def _helpers() -> dict[str, object]:
        def task_badge() -> tuple[int, int]:
            user = g.get("user")
            if user is None:
                return 0, 0
            if "task_badge" not in g:
                g.task_badge = notifications.badge(runtime(), user.actor())
            return g.task_badge  # type: ignore[no-any-return]

        def case_notice(instance_id: str) -> dict[str, str] | None:
            with runtime().uow(write=False) as uow:
                return case_state.notices(uow, [instance_id]).get(instance_id)

        return {"task_badge": task_badge, "case_notice": case_notice}

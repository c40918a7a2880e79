"""Login and logout: local accounts, and single sign-on through the region's identity provider."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask_limiter import RateLimitExceeded

from ..services.access import login_throttle, sessions, single_sign_on, users
from . import sessions as web_sessions
from .context import actor, current_user, runtime
from .security import safe_next, start_session
from .throttling import login_requests

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

ATTEMPT_KEY = "sso_attempt"  # state, nonce and PKCE verifier of a login sent to the provider
ID_TOKEN_KEY = "sso_id_token"  # kept in the server session for the provider's logout (id_token_hint)

LOCAL_ADMINS_ONLY = ("L'accesso con nome utente e password è riservato agli amministratori: "
                     "usa «Accedi con le credenziali regionali».")
SSO_MESSAGES: dict[type[single_sign_on.SignOnError], tuple[str, int]] = {
    single_sign_on.NotConfigured: ("L'accesso con le credenziali regionali non è attivo in questo servizio.", 404),
    single_sign_on.ProviderUnavailable: ("Il sistema di accesso regionale non risponde: riprova tra qualche minuto "
                                         "o avvisa l'assistenza.", 503),
    single_sign_on.TokenExpired: ("L'accesso regionale è scaduto prima di essere completato: accedi di nuovo.", 401),
    single_sign_on.SignOnRejected: ("L'accesso regionale non è andato a buon fine: accedi di nuovo.", 400),
    single_sign_on.Refused: ("Le tue credenziali regionali sono valide, ma non hai un ruolo in questo servizio: "
                             "chiedi al tuo responsabile di essere abilitato.", 403),
    single_sign_on.AccountDisabled: ("Il tuo account in questo servizio è disabilitato: rivolgiti "
                                     "all'amministratore.", 403),
}


def _login_page(target: str, username: str = "", status: int = 200, **extra: object) -> tuple[str, int]:
    rt = runtime()
    return render_template("auth/login.html", next=target, username=username, sso=single_sign_on.enabled(rt),
                           local_admins_only=rt.settings.local_login == "admins", **extra), status


@bp.route("/accesso", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """Show the login page; on POST check a local account's password and open a session."""
    target = safe_next(request.values.get("next"), url_for("inbox.index"))
    if current_user() is not None:
        return redirect(target)
    if request.method == "GET":
        return _login_page(target)
    username = request.form.get("username", "").strip()[:150]
    password = request.form.get("password", "")
    try:
        with login_requests():
            user = users.authenticate(runtime(), username, password, request.remote_addr)
    except (users.LoginThrottled, RateLimitExceeded) as exc:
        # The same answer whether the username exists or not, and no password was checked.
        wait = exc.retry_after if isinstance(exc, users.LoginThrottled) else 60
        page, _ = _login_page(target, username, error=login_throttle.THROTTLED if isinstance(exc, RateLimitExceeded)
                              else exc.message, retry_minutes=-(-wait // 60))
        return page, 429, {"Retry-After": str(wait)}  # type: ignore[return-value]
    except users.LocalLoginDisabled:
        return _login_page(target, username, 403, error=LOCAL_ADMINS_ONLY)
    except users.LoginFailed as exc:
        return _login_page(target, username, 401, error=exc.message)
    start_session(user)
    flash(f"Benvenuto, {user.full_name or user.username}.", "success")
    return redirect(target)


def _callback_url() -> str:
    return runtime().settings.base_url + url_for("auth.sso_callback")


@bp.get("/accesso/regionale")
def sso_start() -> Response | tuple[str, int]:
    """Send the browser to the region's identity provider (authorization code flow with PKCE)."""
    target = safe_next(request.args.get("next"), url_for("inbox.index"))
    if current_user() is not None:
        return redirect(target)
    try:
        attempt = single_sign_on.begin(runtime(), _callback_url())
    except single_sign_on.SignOnError as exc:
        return _sso_failure(exc, target)
    session[ATTEMPT_KEY] = {"state": attempt.state, "nonce": attempt.nonce, "code_verifier": attempt.code_verifier,
                            "next": target}
    return redirect(attempt.url)


@bp.get("/accesso/regionale/ritorno")
def sso_callback() -> Response | tuple[str, int]:
    """The provider's answer: check it, find the account and open a session (or say why not)."""
    attempt = session.pop(ATTEMPT_KEY, None) or {}
    target = safe_next(attempt.get("next"), url_for("inbox.index"))
    rt = runtime()
    try:
        identity = single_sign_on.finish(rt, attempt, _callback_url(), request.args)
        user = single_sign_on.sign_in(rt, identity, request.remote_addr)
    except single_sign_on.NotEnabled as exc:
        return render_template("auth/pending.html", username=exc.username), 403
    except single_sign_on.SignOnError as exc:
        return _sso_failure(exc, target)
    start_session(user)
    session[ID_TOKEN_KEY] = identity.id_token
    flash(f"Benvenuto, {user.full_name or user.username}.", "success")
    return redirect(target)


def _sso_failure(exc: single_sign_on.SignOnError, target: str) -> tuple[str, int]:
    log.warning("single sign-on failed: %s: %s", type(exc).__name__, exc.message)
    message, status = next((text for kind, text in SSO_MESSAGES.items() if isinstance(exc, kind)),
                           SSO_MESSAGES[single_sign_on.SignOnRejected])
    return _login_page(target, status=status, error=message)


@bp.post("/uscita")
def logout() -> Response:
    """End the session on the server (its cookie stops working, wherever it was copied), and at the provider."""
    who = actor()
    id_token = session.get(ID_TOKEN_KEY)
    id_hash = web_sessions.end()
    if id_hash is not None:
        sessions.logout(runtime(), id_hash, who)
    flash("Sessione chiusa correttamente.", "info")
    at_provider = single_sign_on.logout_url(runtime(), id_token, runtime().settings.base_url + url_for("auth.login"))
    return redirect(at_provider or url_for("auth.login"))


@bp.get("/salute")
def health() -> tuple[dict[str, str], int]:
    """Liveness probe for load balancers (no data)."""
    return {"stato": "ok"}, 200

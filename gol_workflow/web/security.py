"""Login enforcement, CSRF, session hygiene and the security headers every response carries."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, redirect, request, url_for
from flask_wtf.csrf import CSRFProtect

from ..services.access import users
from . import sessions

PROBES = frozenset({"health.healthz", "health.readyz", "health.metrics"})  # answered without a session
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.sso_start", "auth.sso_callback", "static", "vendor.asset",
                              "auth.health"}) | PROBES

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def content_policy(form_targets: tuple[str, ...] = ()) -> str:
    """The Content-Security-Policy; forms may also lead to these origins (the identity provider's logout)."""
    if not form_targets:
        return CSP
    return CSP.replace("form-action 'self'", "form-action " + " ".join(("'self'", *form_targets)))


def init_app(app: Flask, form_targets: tuple[str, ...] = ()) -> None:
    """Install CSRF protection, the login check and the response headers."""
    app.config["GOL_CSP"] = content_policy(form_targets)
    CSRFProtect(app)
    app.before_request(_load_user)
    app.after_request(_headers)


def _load_user() -> Response | None:
    g.user = None
    if request.endpoint in ("static", "vendor.asset") or request.endpoint in PROBES:
        return None
    g.user = sessions.current_user()  # None once the session ended, expired or its account changed
    if g.user is None and request.endpoint not in PUBLIC_ENDPOINTS and request.endpoint is not None:
        if request.method == "GET":
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return redirect(url_for("auth.login"))
    return None


def start_session(user: users.User) -> None:
    """A fresh server session, under a new id, for a user who just logged in (no fixation)."""
    sessions.begin(user)


def safe_next(target: str | None, default: str) -> str:
    """Only local paths are followed after login or an action."""
    if not target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return default  # a line break would forge a header
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", current_app.config.get("GOL_CSP", CSP))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if g.get("user") is not None and request.endpoint not in ("static", "vendor.asset"):
        headers["Cache-Control"] = "no-store"  # case data must not linger in shared caches
    return response

"""Bearer-token authentication (RFC 6750) before every operation except the API document."""

from __future__ import annotations

from flask import Flask, g, request

from ..services.access import tokens
from .context import runtime
from .problems import Problem

REALM = "gol-workflow"
PUBLIC_ENDPOINTS = frozenset({"api-docs.openapi_json", "api_docs.page", "api_docs.start", "api_docs.asset"})


def init_app(app: Flask) -> None:
    """Check the bearer token before each request."""
    app.before_request(authenticate)


def authenticate() -> None:
    """Set `g.actor` from the Authorization header, or refuse with 401."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Problem(401, "unauthenticated", "Unauthorized",
                      "Send an API token as 'Authorization: Bearer <token>'.",
                      headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'})
    who = tokens.authenticate(runtime(), secret.strip())
    if who is None:
        raise Problem(401, "unauthenticated", "Unauthorized",
                      "The token is not valid: it is unknown, revoked, or its account is disabled.",
                      headers={"WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token"'})
    g.actor = who

"""A real OpenID Connect provider (`oidc-provider`, run with Node) and the service on a live loopback server."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from werkzeug.serving import make_server

from gol_workflow.bootstrap import bootstrap
from gol_workflow.clock import ManualClock
from gol_workflow.config import OidcSettings
from gol_workflow.services.access import single_sign_on, users
from gol_workflow.services.workflow.runtime import Runtime
from gol_workflow.web import create_app
from tests.conftest import ADMIN, DATA, ROOT

PROVIDER_SCRIPT = Path(__file__).with_name("identity_provider.mjs")
CLIENT_ID, CLIENT_SECRET = "gol-workflow", "segreto-del-client-di-prova"
ID_TOKEN_TTL = 30  # seconds: the expiry test moves the service's clock past it
CALLBACK = "/accesso/regionale/ritorno"
ROLE_MAP = (("GOL-CPI", "cpi"), ("GOL-SDS", "sds"), ("GOL-ADMIN", "admin"))
ADMIN_PASSWORD = "password-di-emergenza"

# The provider's static accounts: the login typed on its page is the subject.
ACCOUNTS: dict[str, dict[str, Any]] = {
    "mario": {"preferred_username": "mario.rossi", "name": "Mario Rossi", "email": "mario.rossi@regione.example",
              "email_verified": True, "gol_roles": ["GOL-CPI"], "gol_zones": ["nord"]},
    "sara": {"preferred_username": "sara.verdi", "name": "Sara Verdi", "email": "sara.verdi@regione.example",
             "email_verified": True, "gol_roles": ["ALTRO-SERVIZIO", "GOL-SDS"], "gol_zones": ["nord", "sud", "marte"]},
    "luca": {"preferred_username": "luca.bianchi", "name": "Luca Bianchi", "email": "luca.bianchi@regione.example",
             "email_verified": True, "gol_roles": [], "gol_zones": []},
}


@dataclass
class IdentityProvider:
    """The running provider: its issuer and its process."""

    issuer: str
    process: subprocess.Popen[str]


def start_provider(base_url: str) -> IdentityProvider:
    """Start the provider on a free loopback port for a service at `base_url`."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("node and the oidc-provider package are needed: run `make frontend`")
    options = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [base_url + CALLBACK],
               "post_logout_redirect_uris": [base_url + "/accesso"], "id_token_ttl": ID_TOKEN_TTL,
               "accounts": ACCOUNTS}
    process = subprocess.Popen([node, str(PROVIDER_SCRIPT), json.dumps(options)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.kill()
        pytest.fail("the identity provider did not start")
    return IdentityProvider(json.loads(line)["issuer"], process)


def stop_provider(provider: IdentityProvider) -> None:
    """Close its standard input (it exits) and wait."""
    assert provider.process.stdin is not None
    provider.process.stdin.close()
    try:
        provider.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        provider.process.kill()
        provider.process.wait()
    assert provider.process.stdout is not None
    provider.process.stdout.close()


@dataclass
class Service:
    """The service on a live server, the provider it trusts, and its runtime and clock."""

    url: str
    provider: IdentityProvider
    runtime: Runtime
    clock: ManualClock


@pytest.fixture
def sso_options() -> dict[str, Any]:
    """Single sign-on settings a test may change before the service starts."""
    return {"roles_claim": "gol_roles", "role_map": ROLE_MAP, "zones_claim": "gol_zones", "unknown_users": "pending"}


@pytest.fixture
def service(settings: Any, sso_options: dict[str, Any]) -> Iterator[Service]:
    """The service, with single sign-on through a real provider, on a live loopback server."""
    holder: dict[str, Callable[..., Any]] = {}
    httpd = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    base_url = f"http://127.0.0.1:{httpd.server_port}"
    provider = start_provider(base_url)
    clock = ManualClock(datetime.now(UTC))  # the ID tokens are checked against the service's clock
    local_login = sso_options.pop("local_login", "all")
    oidc = OidcSettings(issuer=provider.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, **sso_options)
    rt = bootstrap(settings.with_overrides(zones_dir=DATA / "web" / "zones", base_url=base_url, oidc=oidc,
                                           local_login=local_login), clock=clock, probe_provider=True)
    users.add_user(rt, "admin", "admin", ADMIN, password=ADMIN_PASSWORD, full_name="Amministratore")
    holder["app"] = create_app(rt)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Service(base_url, provider, rt, clock)
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        stop_provider(provider)
        single_sign_on.forget_provider()
        rt.db.dispose()


_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', re.S)


def submit_form(http: requests.Session, page: requests.Response, fields: dict[str, str],
                **kwargs: Any) -> requests.Response:
    """Submit the page's form as a browser would (its hidden fields and these), following redirects."""
    match = _FORM.search(page.text)
    assert match, page.text[:2000]
    data = {name: unescape(value) for name, value in _HIDDEN.findall(match.group(2))} | fields
    return http.post(urljoin(page.url, unescape(match.group(1))), data=data, **kwargs)


def provider_login(http: requests.Session, service: Service, login: str, **kwargs: Any) -> requests.Response:
    """From the service's login button through the provider's login and consent pages."""
    page = http.get(service.url + "/accesso/regionale")
    assert page.url.startswith(service.provider.issuer), page.url
    assert 'name="login"' in page.text, "the provider asks who the person is"
    page = submit_form(http, page, {"login": login, "password": "qualsiasi"})
    assert page.url.startswith(service.provider.issuer) and 'value="consent"' in page.text, page.text[:2000]
    return submit_form(http, page, {}, **kwargs)


def csrf_token(html: str) -> str:
    """The CSRF token of one of the service's pages."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:2000]
    return match.group(1)

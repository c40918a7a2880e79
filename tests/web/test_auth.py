"""Login with local accounts: wrong passwords, disabled accounts, logout, safe redirects."""

from __future__ import annotations

from gol_workflow.services.access import users
from gol_workflow.web import create_app
from tests.conftest import ADMIN

from .conftest import PASSWORD, Browser


def _login(person, username, password, next_url=None):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return person.post("/accesso", data)


def test_wrong_password_gives_the_same_message_as_unknown_user(web_runtime, browser) -> None:
    person = browser(None)
    wrong = _login(person, "cpi.nord", "sbagliata-123")
    unknown = _login(person, "nessuno", "sbagliata-123")
    assert wrong.status_code == unknown.status_code == 401
    assert "Nome utente o password non corretti." in wrong.get_data(as_text=True)
    assert "Nome utente o password non corretti." in unknown.get_data(as_text=True)


def test_logout_ends_the_session(web_runtime, browser) -> None:
    person = browser("cpi.nord")
    person.text("/attivita")
    assert person.post("/uscita").status_code == 302
    assert person.get("/attivita").status_code == 302


def test_disabled_user_loses_the_open_session(web_runtime, browser) -> None:
    person = browser("cpi.nord")
    assert person.get("/attivita").status_code == 200
    users.set_active(web_runtime, "cpi.nord", False, ADMIN)
    assert person.get("/attivita").status_code == 302
    assert _login(browser(None), "cpi.nord", PASSWORD).status_code == 401


def test_login_follows_only_local_next_addresses(web_runtime, browser) -> None:
    assert _login(browser(None), "cpi.nord", PASSWORD, "/agenda").headers["Location"] == "/agenda"
    assert _login(browser(None), "cpi.nord", PASSWORD, "https://evil.example/x").headers["Location"] == "/attivita"
    assert _login(browser(None), "cpi.nord", PASSWORD, "//evil.example").headers["Location"] == "/attivita"


def test_passwords_are_stored_as_argon2_hashes(web_runtime) -> None:
    with web_runtime.uow(write=False) as uow:
        row = uow.users.by_username("cpi.nord")
    assert row["password_hash"].startswith("$argon2id$") and PASSWORD not in row["password_hash"]


def test_logins_are_audited(web_runtime, browser) -> None:
    _login(browser(None), "cpi.nord", "sbagliata-123")
    browser("cpi.nord")
    with web_runtime.uow(write=False) as uow:
        actions = [e["action"] for e in uow.audit.recent(10) if e["actor"] == "cpi.nord"]
    assert "user.login" in actions and "user.login_failed" in actions


def _login_remote(web_runtime) -> str:
    with web_runtime.uow(write=False) as uow:
        return next(e["data"]["remote"] for e in uow.audit.recent(10) if e["action"] == "user.login")


def test_behind_one_trusted_proxy_the_client_address_is_the_last_forwarded_hop(web_runtime) -> None:
    web_runtime.settings = web_runtime.settings.with_overrides(proxy_hops=1)
    person = Browser(create_app(web_runtime, {"TESTING": True}).test_client())
    response = person.post("/accesso", {"username": "cpi.nord", "password": PASSWORD},
                           headers={"X-Forwarded-For": "192.0.2.1, 198.51.100.7"},
                           environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 302
    assert _login_remote(web_runtime) == "198.51.100.7"


def test_without_trusted_proxies_a_forged_forwarded_header_is_ignored(web_runtime) -> None:
    person = Browser(create_app(web_runtime, {"TESTING": True}).test_client())
    response = person.post("/accesso", {"username": "cpi.nord", "password": PASSWORD},
                           headers={"X-Forwarded-For": "198.51.100.7"}, environ_base={"REMOTE_ADDR": "192.0.2.44"})
    assert response.status_code == 302
    assert _login_remote(web_runtime) == "192.0.2.44"

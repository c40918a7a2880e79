"""Web sessions end on the server: logout, idle timeout, absolute lifetime, account changes, new id at login."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from flask import Flask

from gol_workflow.persistence.tables import web_sessions
from gol_workflow.services.access import users
from gol_workflow.web import create_app
from tests.conftest import ADMIN

from .conftest import PASSWORD, Browser

COOKIE = "gol_sessione"


def _cookie(person: Browser) -> str:
    cookie = person.client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def _stranger_with(app: Flask, value: str) -> Browser:
    """Another browser that was handed a copy of someone's cookie."""
    stranger = Browser(app.test_client())
    stranger.client.set_cookie(COOKIE, value)
    return stranger


def _goes_to_login(response) -> bool:
    return response.status_code == 302 and "/accesso" in response.headers["Location"]


def test_a_cookie_copied_before_logout_gets_the_login_page_after_logout(app, browser) -> None:
    person = browser("cpi.nord")
    assert person.get("/attivita").status_code == 200
    copied = _cookie(person)
    assert _stranger_with(app, copied).get("/attivita").status_code == 200  # a copy works while logged in
    assert person.post("/uscita").status_code == 302
    assert _goes_to_login(_stranger_with(app, copied).get("/attivita"))
    assert _goes_to_login(person.get("/attivita"))


def test_the_cookie_carries_only_a_random_id_stored_as_its_hash(web_runtime, browser) -> None:
    person = browser("cpi.nord")
    value = _cookie(person)
    assert len(value) == 43 and "." not in value and "cpi" not in value
    with web_runtime.uow(write=False) as uow:
        ids = [row.id for row in uow.conn.execute(web_sessions.select())]
    assert ids == [hashlib.sha256(value.encode()).hexdigest()]


def test_the_session_id_changes_at_login(app, browser) -> None:
    attacker = Browser(app.test_client())
    attacker.get("/accesso")
    planted = _cookie(attacker)  # what an attacker could set in a victim's browser before login
    victim = _stranger_with(app, planted)
    victim.get("/accesso")
    assert victim.post("/accesso", {"username": "cpi.nord", "password": PASSWORD}).status_code == 302
    first = _cookie(victim)
    assert first != planted
    assert _goes_to_login(_stranger_with(app, planted).get("/attivita"))
    victim.get("/attivita")
    assert victim.post("/uscita").status_code == 302
    victim.get("/accesso")
    victim.post("/accesso", {"username": "cpi.nord", "password": PASSWORD})
    assert _cookie(victim) not in (first, planted)
    assert _goes_to_login(_stranger_with(app, first).get("/attivita"))


def test_a_session_unused_for_the_idle_timeout_ends(browser, clock) -> None:
    person = browser("cpi.nord")
    for _ in range(4):  # used every 20 minutes: it stays open past the idle timeout
        clock.advance(timedelta(minutes=20))
        assert person.get("/attivita").status_code == 200
    clock.advance(timedelta(minutes=30, seconds=1))
    assert _goes_to_login(person.get("/attivita"))


def test_a_session_ends_at_its_absolute_lifetime_however_much_it_is_used(browser, clock) -> None:
    person = browser("cpi.nord")
    for _ in range(9 * 3 + 2):  # 9 hours 40 minutes, a request every 20 minutes
        clock.advance(timedelta(minutes=20))
        assert person.get("/attivita").status_code == 200
    clock.advance(timedelta(minutes=19))
    assert person.get("/attivita").status_code == 200
    clock.advance(timedelta(minutes=1, seconds=1))  # 10 hours after login
    assert _goes_to_login(person.get("/attivita"))


def test_the_lifetimes_come_from_the_settings(web_runtime, clock) -> None:
    web_runtime.settings = web_runtime.settings.with_overrides(session_idle_minutes=5, session_max_hours=0.25)
    person = Browser(create_app(web_runtime, {"TESTING": True}).test_client())
    person.post("/accesso", {"username": "cpi.nord", "password": PASSWORD})
    clock.advance(timedelta(minutes=4))
    assert person.get("/attivita").status_code == 200
    clock.advance(timedelta(minutes=5, seconds=1))
    assert _goes_to_login(person.get("/attivita"))
    person.get("/accesso")
    assert person.post("/accesso", {"username": "cpi.nord", "password": PASSWORD}).status_code == 302
    for _ in range(3):
        clock.advance(timedelta(minutes=4))
        assert person.get("/attivita").status_code == 200
    clock.advance(timedelta(minutes=3, seconds=1))  # 15 minutes after login
    assert _goes_to_login(person.get("/attivita"))


def test_requests_within_a_minute_write_nothing_for_the_session(web_runtime, browser, clock) -> None:
    person = browser("cpi.nord")
    person.get("/attivita")  # the page's CSRF token is stored once

    def last_seen():
        with web_runtime.uow(write=False) as uow:
            return uow.conn.execute(web_sessions.select()).one().last_seen_at

    before = last_seen()
    clock.advance(timedelta(seconds=50))
    person.get("/attivita")
    assert last_seen() == before
    clock.advance(timedelta(seconds=20))
    person.get("/attivita")
    assert last_seen() == before + timedelta(seconds=70)


CHANGES = {
    "password changed": lambda rt: users.set_password(rt, "cpi.nord", "una-nuova-password", ADMIN),
    "account disabled": lambda rt: users.set_active(rt, "cpi.nord", False, ADMIN),
    "role changed": lambda rt: users.change_access(rt, "cpi.nord", ADMIN, role="sds"),
    "zones changed": lambda rt: users.change_access(rt, "cpi.nord", ADMIN, zones=["nord", "sud"]),
    "sessions ended": lambda rt: users.end_sessions(rt, "cpi.nord", ADMIN),
}


@pytest.mark.parametrize("change", CHANGES)
def test_an_account_change_ends_its_open_sessions(web_runtime, browser, change) -> None:
    office, home, colleague = browser("cpi.nord"), browser("cpi.nord"), browser("cpi.sud")
    assert office.get("/attivita").status_code == home.get("/attivita").status_code == 200
    CHANGES[change](web_runtime)
    assert _goes_to_login(office.get("/attivita")) and _goes_to_login(home.get("/attivita"))
    assert colleague.get("/attivita").status_code == 200


def test_an_unchanged_access_keeps_the_sessions(web_runtime, browser) -> None:
    person = browser("cpi.nord")
    users.change_access(web_runtime, "cpi.nord", ADMIN, role="cpi", zones=["nord"])
    assert person.get("/attivita").status_code == 200

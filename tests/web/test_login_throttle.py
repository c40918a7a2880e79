"""Login throttling: per client address and per username, before any hash, alike for unknown and existing users."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest

from gol_workflow.services.access import users
from gol_workflow.web import create_app
from tests.conftest import served

from .conftest import PASSWORD, Browser, csrf_of

ALERT = re.compile(r'id="errore-accesso">(.*?)</div>', re.S)
ATTACKER, OFFICE, HOME, ELSEWHERE = "203.0.113.66", "198.51.100.10", "198.51.100.20", "192.0.2.30"


class HashCounter:
    """Counts the password hashes verified, and how many ran at once."""

    def __init__(self) -> None:
        self.calls = 0
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()


@pytest.fixture
def strict(web_runtime):
    """Small limits, so that tests reach them with few (slow, 64 MiB) hashes."""
    web_runtime.settings = web_runtime.settings.with_overrides(
        login_max_failures=3, login_max_failures_per_address=6, login_max_failures_per_account=5)
    return web_runtime


@pytest.fixture
def hashes(monkeypatch) -> HashCounter:
    counter = HashCounter()
    real = users._verify

    def counting(hashed: str, password: str) -> bool:
        with counter._lock:
            counter.calls += 1
            counter.running += 1
            counter.most_at_once = max(counter.most_at_once, counter.running)
        try:
            return real(hashed, password)
        finally:
            with counter._lock:
                counter.running -= 1

    monkeypatch.setattr(users, "_verify", counting)
    return counter


@pytest.fixture
def app(strict):
    return create_app(strict, {"TESTING": True})


def _attempt(person: Browser, username: str, password: str, address: str):
    return person.post("/accesso", {"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def _answer(response) -> tuple[int, str, str | None]:
    alert = ALERT.search(response.get_data(as_text=True))
    return response.status_code, " ".join(alert.group(1).split()) if alert else "", response.headers.get("Retry-After")


def test_unknown_and_existing_usernames_answer_alike_under_repeated_failures(app, browser) -> None:
    person = browser(None)
    existing = [_answer(_attempt(person, "cpi.nord", "sbagliata-123", OFFICE)) for _ in range(6)]
    unknown = [_answer(_attempt(person, "nessuno.qui", "sbagliata-123", HOME)) for _ in range(6)]
    assert existing == unknown
    assert [status for status, _, _ in existing] == [401, 401, 401, 429, 429, 429]
    assert "Troppi tentativi" in existing[-1][1]


def test_an_attacker_hammering_admin_does_not_stop_the_admin_logging_in_elsewhere(app, browser, hashes) -> None:
    attacker = browser(None)
    answers = [_attempt(attacker, "admin", f"tentativo-{n}", ATTACKER).status_code for n in range(10)]
    assert answers == [401] * 3 + [429] * 7
    assert hashes.calls == 3
    assert _attempt(attacker, "admin", PASSWORD, ATTACKER).status_code == 429  # even the right password: no hash
    assert hashes.calls == 3
    assert _attempt(browser(None), "admin", PASSWORD, OFFICE).status_code == 302


def test_a_spread_attack_on_one_account_slows_new_addresses_but_never_blocks_known_ones(app, browser, clock) -> None:
    person = browser(None)
    assert _attempt(person, "admin", PASSWORD, OFFICE).status_code == 302  # the office is a known address
    for n in range(6):  # two attacking addresses, three failures each: the account is under attack
        _attempt(browser(None), "admin", "sbagliata-123", f"203.0.113.{n % 2 + 1}")
    newcomer = browser(None)
    assert _attempt(newcomer, "admin", "sbagliata-123", ELSEWHERE).status_code == 401
    assert _attempt(newcomer, "admin", PASSWORD, ELSEWHERE).status_code == 429  # one try per window from there
    office = browser(None)
    assert _attempt(office, "admin", "sbagliata-123", OFFICE).status_code == 401
    assert _attempt(office, "admin", PASSWORD, OFFICE).status_code == 302
    clock.advance(timedelta(minutes=15, seconds=1))
    assert _attempt(browser(None), "admin", PASSWORD, ELSEWHERE).status_code == 302


def test_after_n_failures_from_one_address_attempts_are_refused_without_hashing(app, browser, hashes, clock) -> None:
    person = browser(None)
    names = ["cpi.nord", "sds.nord", "nessuno", "admin", "ignoto", "cpi.sud"]
    assert [_attempt(person, name, "sbagliata-123", ATTACKER).status_code for name in names] == [401] * 6
    assert hashes.calls == 6
    for name in ("cpi.nord", "altro", "spec.sud"):
        refused = _attempt(person, name, PASSWORD, ATTACKER)
        assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert hashes.calls == 6
    assert _attempt(browser(None), "cpi.nord", PASSWORD, OFFICE).status_code == 302  # other addresses unaffected
    clock.advance(timedelta(minutes=15, seconds=1))
    assert _attempt(person, "cpi.nord", PASSWORD, ATTACKER).status_code == 302


def test_a_successful_login_clears_that_addresses_failures_for_the_account(app, browser) -> None:
    person = browser(None)
    for _ in range(2):
        assert _attempt(person, "cpi.nord", "sbagliata-123", OFFICE).status_code == 401
    assert _attempt(person, "cpi.nord", PASSWORD, OFFICE).status_code == 302
    later = browser(None)
    assert [_attempt(later, "cpi.nord", "sbagliata-123", OFFICE).status_code for _ in range(3)] == [401] * 3


def test_a_login_flood_from_many_threads_keeps_a_logged_in_users_inbox_responsive(strict, hashes) -> None:
    strict.settings = strict.settings.with_overrides(proxy_hops=1, login_concurrent_hashes=1)
    app = create_app(strict, {"TESTING": True})
    with served(app) as base:
        def flood(thread: int) -> list[int]:
            with httpx.Client(base_url=base, headers={"X-Forwarded-For": ATTACKER}, timeout=60) as client:
                token = csrf_of(client.get("/accesso").text)
                return [client.post("/accesso", data={"csrf_token": token, "username": f"utente{thread}.{n}",
                                                       "password": "sbagliata-123"}).status_code for n in range(4)]

        with httpx.Client(base_url=base, headers={"X-Forwarded-For": OFFICE}, timeout=60) as operator:
            token = csrf_of(operator.get("/accesso").text)
            assert operator.post("/accesso", data={"csrf_token": token, "username": "cpi.nord",
                                                   "password": PASSWORD}).status_code == 302
            with ThreadPoolExecutor(12) as pool:
                attacks = pool.map(flood, range(12))
                inbox = [operator.get("/attivita").status_code for _ in range(10)]
            answers = [status for statuses in attacks for status in statuses]
    assert inbox == [200] * 10
    assert sorted(set(answers)) == [401, 429] and answers.count(401) == 6
    assert hashes.calls == 1 + 6  # the operator's login and the six failures the address is allowed
    assert hashes.most_at_once == 1

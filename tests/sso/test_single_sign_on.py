"""Single sign-on against a real OpenID Connect provider: login, claims, unknown people, logout, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from gol_workflow.services.access import single_sign_on, users
from gol_workflow.services.access.users import User
from tests.conftest import ADMIN

from .conftest import ADMIN_PASSWORD, ID_TOKEN_TTL, Service, csrf_token, provider_login, submit_form


def _accounts(service: Service) -> dict[str, User]:
    return {u.username: u for u in users.list_users(service.runtime, ADMIN)}


def test_an_operator_logs_in_through_the_provider_with_role_and_zones_from_the_claims(service: Service) -> None:
    http = requests.Session()
    login_page = http.get(service.url + "/accesso")
    assert "Accedi con le credenziali regionali" in login_page.text
    landed = provider_login(http, service, "mario")
    assert landed.status_code == 200 and landed.url == service.url + "/attivita", landed.url
    assert "Mario Rossi" in landed.text and "Benvenuto, Mario Rossi." in landed.text
    mario = _accounts(service)["mario.rossi"]
    assert (mario.role, mario.zones, mario.active, mario.pending) == ("cpi", ("nord",), True, False)
    assert mario.single_sign_on and mario.email == "mario.rossi@regione.example"


def test_the_first_mapped_value_gives_the_role_and_unknown_zones_are_dropped(service: Service) -> None:
    http = requests.Session()
    landed = provider_login(http, service, "sara")
    assert landed.status_code == 200 and "Sara Verdi" in landed.text
    sara = _accounts(service)["sara.verdi"]
    assert (sara.role, sara.zones) == ("sds", ("nord", "sud"))  # "marte" is no zone of this service


def test_a_person_without_a_role_waits_for_an_administrator_who_enables_them(service: Service) -> None:
    http = requests.Session()
    waiting = provider_login(http, service, "luca")
    assert waiting.status_code == 403 and "in attesa di abilitazione" in waiting.text
    assert "luca.bianchi" in waiting.text
    luca = _accounts(service)["luca.bianchi"]
    assert luca.pending and not luca.active and luca.role == ""
    assert http.get(service.url + "/", allow_redirects=False).status_code == 302  # no session was opened

    admin = requests.Session()
    page = admin.get(service.url + "/accesso")
    admin.post(service.url + "/accesso", data={"csrf_token": csrf_token(page.text), "username": "admin",
                                               "password": ADMIN_PASSWORD})
    listing = admin.get(service.url + "/admin/utenti")
    assert listing.status_code == 200 and "Luca Bianchi" in listing.text and "In attesa di abilitazione" in listing.text
    enabled = admin.post(service.url + "/admin/utenti/luca.bianchi/abilita",
                         data={"csrf_token": csrf_token(listing.text), "role": "sds", "zones": ["sud"]})
    assert "luca.bianchi è abilitato" in enabled.text
    luca = _accounts(service)["luca.bianchi"]
    assert (luca.role, luca.zones, luca.active, luca.pending) == ("sds", ("sud",), True, False)

    # The provider still knows Luca: no login page this time, straight back into the service.
    again = http.get(service.url + "/accesso/regionale")
    assert again.status_code == 200 and again.url == service.url + "/attivita" and "Luca Bianchi" in again.text


@pytest.mark.parametrize("sso_options", [{"roles_claim": "gol_roles", "role_map": (("GOL-CPI", "cpi"),),
                                          "unknown_users": "refuse"}])
def test_a_person_without_a_role_is_refused_and_nothing_is_created(service: Service) -> None:
    http = requests.Session()
    refused = provider_login(http, service, "luca")
    assert refused.status_code == 403 and "non hai un ruolo in questo servizio" in refused.text
    assert "luca.bianchi" not in _accounts(service)
    assert http.get(service.url + "/", allow_redirects=False).status_code == 302


def test_logout_ends_the_session_at_the_provider_too(service: Service) -> None:
    http = requests.Session()
    landed = provider_login(http, service, "mario")
    token = csrf_token(landed.text)
    leaving = http.post(service.url + "/uscita", data={"csrf_token": token}, allow_redirects=False)
    at_provider = leaving.headers["Location"]
    assert at_provider.startswith(service.provider.issuer + "/session/end")
    assert parse_qs(urlsplit(at_provider).query)["id_token_hint"][0].count(".") == 2  # the ID token, signed
    confirm = http.get(at_provider)
    back = submit_form(http, confirm, {"logout": "yes"})
    assert back.url == service.url + "/accesso" and "Sessione chiusa correttamente." in back.text
    assert http.get(service.url + "/", allow_redirects=False).status_code == 302  # the service's session is over
    # And the provider's: it asks who the person is again instead of signing them straight back in.
    again = http.get(service.url + "/accesso/regionale")
    assert again.url.startswith(service.provider.issuer) and 'name="login"' in again.text


def test_an_expired_id_token_opens_no_session(service: Service) -> None:
    http = requests.Session()
    redirect = provider_login(http, service, "mario", allow_redirects=False)
    while not redirect.headers["Location"].startswith(service.url):  # the provider's own hops
        redirect = http.get(redirect.headers["Location"], allow_redirects=False)
    callback = redirect.headers["Location"]
    assert urlsplit(callback).path == "/accesso/regionale/ritorno"
    service.clock.advance(timedelta(seconds=ID_TOKEN_TTL + single_sign_on.LEEWAY + 5))
    late = http.get(callback)
    assert late.status_code == 401 and "scaduto prima di essere completato" in late.text
    assert "mario.rossi" not in _accounts(service)
    assert http.get(service.url + "/", allow_redirects=False).status_code == 302


def test_an_answer_for_another_login_is_refused(service: Service) -> None:
    http = requests.Session()
    redirect = provider_login(http, service, "mario", allow_redirects=False)
    while not redirect.headers["Location"].startswith(service.url):
        redirect = http.get(redirect.headers["Location"], allow_redirects=False)
    forged = redirect.headers["Location"].replace("state=", "state=x")
    refused = http.get(forged)
    assert refused.status_code == 400 and "non è andato a buon fine" in refused.text
    assert "mario.rossi" not in _accounts(service)


@pytest.mark.parametrize("sso_options", [{"roles_claim": "gol_roles", "role_map": (("GOL-CPI", "cpi"),),
                                          "local_login": "admins"}])
def test_local_passwords_can_be_kept_for_administrators_only(service: Service) -> None:
    users.add_user(service.runtime, "operatore", "cpi", ADMIN, ("nord",), password="password-locale")
    http = requests.Session()
    page = http.get(service.url + "/accesso")
    assert "Accesso di emergenza per gli amministratori" in page.text
    refused = http.post(service.url + "/accesso", data={"csrf_token": csrf_token(page.text), "username": "operatore",
                                                        "password": "password-locale"})
    assert refused.status_code == 403 and "riservato agli amministratori" in refused.text
    admitted = http.post(service.url + "/accesso", data={"csrf_token": csrf_token(refused.text), "username": "admin",
                                                         "password": ADMIN_PASSWORD})
    assert admitted.status_code == 200 and urlsplit(admitted.url).path != "/accesso", admitted.url


def test_an_expired_session_sends_the_person_back_through_the_provider(service: Service) -> None:
    http = requests.Session()
    provider_login(http, service, "mario")
    service.clock.advance(timedelta(minutes=service.runtime.settings.session_idle_minutes + 1))
    expired = http.get(service.url + "/attivita", allow_redirects=False)
    assert expired.status_code == 302 and urlsplit(expired.headers["Location"]).path == "/accesso"
    service.clock.set(datetime.now(UTC))  # the provider's next ID token is checked against the service's clock
    page = http.get(urljoin(service.url, expired.headers["Location"]))
    assert "Accedi con le credenziali regionali" in page.text
    back = http.get(service.url + "/accesso/regionale?next=/attivita")
    assert back.url == service.url + "/attivita" and "Mario Rossi" in back.text  # no password asked again

"""How the provider's claims find, create and change accounts (the service's side, one transaction each)."""

from __future__ import annotations

from typing import Any

import pytest

from gol_workflow.config import OidcSettings
from gol_workflow.services.access import sessions, single_sign_on, users
from gol_workflow.services.access.single_sign_on import Identity
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN, DATA

from .conftest import ROLE_MAP

ISSUER = "https://idp.regione.example"


@pytest.fixture
def runtime(settings: Any, clock: Any) -> Any:
    """A runtime trusting a provider (never asked: these tests hand the service identities directly)."""
    from gol_workflow.bootstrap import bootstrap

    oidc = OidcSettings(issuer=ISSUER, client_id="gol", client_secret="s", roles_claim="gol_roles",
                        role_map=ROLE_MAP, zones_claim="gol_zones")
    rt = bootstrap(settings.with_overrides(zones_dir=DATA / "web" / "zones", oidc=oidc), clock=clock)
    yield rt
    rt.db.dispose()


def _identity(subject: str = "abc-123", role: str | None = "cpi", zones: tuple[str, ...] | None = ("nord",),
              email: str | None = "mario.rossi@regione.example", verified: bool = True) -> Identity:
    return Identity(issuer=ISSUER, subject=subject, username="mario.rossi", email=email, email_verified=verified,
                    full_name="Mario Rossi", role=role, zones=zones, id_token="x.y.z")


def test_the_mapping_picks_the_first_declared_role_it_names() -> None:
    oidc = OidcSettings(issuer=ISSUER, client_id="gol", client_secret="s", roles_claim="groups",
                        role_map=(("GOL-ADMIN", "admin"), ("GOL-CPI", "cpi")))
    declared = ("cpi", "sds", "admin")
    assert single_sign_on.mapped_role(oidc, {"groups": ["GOL-CPI", "GOL-ADMIN"]}, declared) == "admin"
    assert single_sign_on.mapped_role(oidc, {"groups": "GOL-CPI"}, declared) == "cpi"
    assert single_sign_on.mapped_role(oidc, {"groups": ["ALTRO"]}, declared) is None
    assert single_sign_on.mapped_role(oidc, {}, declared) is None
    unmapped = OidcSettings(issuer=ISSUER, client_id="gol", client_secret="s", roles_claim="groups")
    assert single_sign_on.mapped_role(unmapped, {"groups": ["direttore", "sds"]}, declared) == "sds"


def test_a_role_the_provider_takes_back_is_taken_back_here_and_open_sessions_end(runtime: Runtime) -> None:
    mario = single_sign_on.sign_in(runtime, _identity())
    token = sessions.start(runtime, mario.id, {})
    assert sessions.resume(runtime, token) is not None
    with pytest.raises(single_sign_on.NotEnabled):
        single_sign_on.sign_in(runtime, _identity(role=None))
    assert sessions.resume(runtime, token) is None
    waiting = users.find_user(runtime, "mario.rossi")
    assert waiting is not None and waiting.pending and not waiting.active and waiting.role == ""
    back = single_sign_on.sign_in(runtime, _identity(role="sds", zones=("sud",)))
    assert (back.role, back.zones, back.active) == ("sds", ("sud",), True)


def test_a_role_given_by_an_administrator_stays_when_the_claims_carry_none(runtime: Runtime) -> None:
    with pytest.raises(single_sign_on.NotEnabled):
        single_sign_on.sign_in(runtime, _identity(role=None, zones=None))
    users.enable_pending(runtime, "mario.rossi", "ats", ["nord"], ADMIN)
    again = single_sign_on.sign_in(runtime, _identity(role=None, zones=None))
    assert (again.role, again.zones) == ("ats", ("nord",))


def test_a_local_account_is_linked_by_its_verified_e_mail_address_only(runtime: Runtime) -> None:
    users.add_user(runtime, "m.rossi", "cpi", ADMIN, ("nord",), password="password-locale")
    with runtime.uow() as uow:
        row = uow.users.by_username("m.rossi")
        assert row is not None
        uow.users.update(row["id"], {"email": "Mario.Rossi@regione.example"})
        uow.commit()
    unverified = single_sign_on.sign_in(runtime, _identity(subject="s-1", verified=False))
    assert unverified.username != "m.rossi" and unverified.username.startswith("mario.rossi")
    linked = single_sign_on.sign_in(runtime, _identity(subject="s-2"))
    assert linked.username == "m.rossi" and linked.single_sign_on


def test_a_disabled_account_is_refused(runtime: Runtime) -> None:
    single_sign_on.sign_in(runtime, _identity())
    users.set_active(runtime, "mario.rossi", False, ADMIN)
    with pytest.raises(single_sign_on.AccountDisabled):
        single_sign_on.sign_in(runtime, _identity())

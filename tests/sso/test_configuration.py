"""Single sign-on settings and the role file are checked by `doctor` and at every start, every problem at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gol_workflow.bootstrap import bootstrap
from gol_workflow.config import ConfigurationError, OidcSettings, load_settings
from gol_workflow.services.administration import doctor
from tests.conftest import ROOT

from .conftest import CLIENT_ID, CLIENT_SECRET, start_provider, stop_provider


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"GOL_VAR_DIR": str(tmp_path / "var"), "GOL_DATABASE_URL": f"sqlite:///{tmp_path / 'gol.sqlite3'}",
            "GOL_SECRET_KEY": "k" * 40, "GOL_PROCESSES_DIR": str(ROOT / "processes"),
            "GOL_FORMS_DIR": str(ROOT / "forms"), "GOL_ZONES_DIR": str(ROOT / "zones"), **extra}


def test_every_single_sign_on_setting_problem_is_reported_at_once(tmp_path: Path) -> None:
    env = _env(tmp_path, GOL_OIDC_ISSUER="http://idp.regione.example/realms/gol", GOL_OIDC_CLIENT_ID="gol",
               GOL_OIDC_ROLE_MAP="GOL-CPI=cpi, senza-ruolo", GOL_OIDC_UNKNOWN_USERS="forse", GOL_OIDC_SCOPES="email")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env)
    problems = caught.value.problems
    assert any("must use https" in p for p in problems)
    assert any("GOL_OIDC_CLIENT_SECRET" in p and "go together" in p for p in problems)
    assert any("'senza-ruolo' is not claim-value=role" in p for p in problems)
    assert any("GOL_OIDC_ROLES_CLAIM is not" in p for p in problems)
    assert any("GOL_OIDC_UNKNOWN_USERS" in p for p in problems)
    assert any("must include openid" in p for p in problems)
    assert len(problems) == 6


def test_client_settings_without_an_issuer_and_admin_only_local_login_without_sso_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(_env(tmp_path, GOL_OIDC_CLIENT_SECRET="s", GOL_LOCAL_LOGIN="admins"))
    assert len(caught.value.problems) == 2
    assert "GOL_OIDC_CLIENT_SECRET set without GOL_OIDC_ISSUER" in caught.value.problems[0]
    assert "GOL_LOCAL_LOGIN=admins needs single sign-on" in caught.value.problems[1]


def test_the_settings_are_read_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(_env(tmp_path, GOL_OIDC_ISSUER="https://idp.regione.example/realms/gol/",
                                  GOL_OIDC_CLIENT_ID="gol", GOL_OIDC_CLIENT_SECRET="s",
                                  GOL_OIDC_ROLES_CLAIM="groups", GOL_OIDC_ROLE_MAP="GOL-CPI=cpi\nGOL-ADMIN=admin",
                                  GOL_OIDC_ZONES_CLAIM="zone", GOL_LOCAL_LOGIN="admins"))
    assert settings.oidc == OidcSettings(issuer="https://idp.regione.example/realms/gol", client_id="gol",
                                         client_secret="s", roles_claim="groups",
                                         role_map=(("GOL-CPI", "cpi"), ("GOL-ADMIN", "admin")), zones_claim="zone")
    assert settings.local_login == "admins"


def test_doctor_asks_the_provider_and_checks_the_mapping_against_the_role_file(tmp_path: Path) -> None:
    provider = start_provider("http://127.0.0.1:8000")
    try:
        sso = dict(GOL_OIDC_ISSUER=provider.issuer, GOL_OIDC_CLIENT_ID=CLIENT_ID, GOL_OIDC_CLIENT_SECRET=CLIENT_SECRET,
                   GOL_OIDC_ROLES_CLAIM="gol_roles")
        good = {f.subject: f for f in doctor.examine(_env(tmp_path, **sso, GOL_OIDC_ROLE_MAP="GOL-CPI=cpi"),
                                                     smtp_probe=False)}
        assert good["sso"].ok and provider.issuer in good["sso"].detail, good["sso"]
        assert good["roles"].ok and "cpi" in good["roles"].detail
        bad = {f.subject: f for f in doctor.examine(_env(tmp_path, **sso, GOL_OIDC_ROLE_MAP="GOL-X=direttore"),
                                                    smtp_probe=False)}
        assert not bad["sso"].ok and "'direttore', which the role file does not declare" in bad["sso"].detail
    finally:
        stop_provider(provider)
    gone = {f.subject: f for f in doctor.examine(_env(tmp_path, **sso, GOL_OIDC_ROLE_MAP="GOL-CPI=cpi"),
                                                 smtp_probe=False)}
    assert not gone["sso"].ok and "discovery document" in gone["sso"].detail and "cannot be read" in gone["sso"].detail


def test_a_process_does_not_start_with_a_broken_role_file_or_a_mapping_to_undeclared_roles(
        settings: Any, tmp_path: Path) -> None:
    roles = tmp_path / "roles.toml"
    roles.write_text('[admin]\nlabel = "Amministrazione"\nscope = "all"\n\n[cpi]\nlabel = "CPI"\nscope = "regione"\n',
                     encoding="utf-8")
    oidc = OidcSettings(issuer="https://idp.regione.example", client_id="gol", client_secret="s",
                        roles_claim="groups", role_map=(("GOL-ADMIN", "admin"), ("GOL-DIR", "direttore")))
    with pytest.raises(ConfigurationError) as caught:
        bootstrap(settings.with_overrides(roles_file=roles, oidc=oidc))
    problems = caught.value.problems
    assert len(problems) == 2
    assert "scope must be one of" in problems[0] and str(roles) in problems[0]
    assert "'direttore', which the role file does not declare" in problems[1]


def test_doctor_reports_a_broken_role_file(tmp_path: Path) -> None:
    roles = tmp_path / "roles.toml"
    roles.write_text("[admin\n", encoding="utf-8")
    findings = {f.subject: f for f in doctor.examine(_env(tmp_path, GOL_ROLES_FILE=str(roles)), smtp_probe=False)}
    assert not findings["roles"].ok and "not valid TOML" in findings["roles"].detail
    assert findings["sso"].ok and "local accounts" in findings["sso"].detail


def test_the_web_does_not_start_when_the_provider_does_not_answer(settings: Any) -> None:
    from tests.integration.scheduling_support import free_port

    oidc = OidcSettings(issuer=f"http://127.0.0.1:{free_port()}", client_id="gol", client_secret="s", timeout=2.0)
    with pytest.raises(ConfigurationError) as caught:
        bootstrap(settings.with_overrides(oidc=oidc), probe_provider=True)
    assert len(caught.value.problems) == 1 and "discovery document" in caught.value.problems[0]

"""`gol-workflow users ...` and `gol-workflow demo`."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from gol_workflow.cli import common, main
from gol_workflow.persistence.tables import web_sessions
from gol_workflow.services.access import sessions, users
from tests.conftest import ROOT


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The CLI pointed at the test database with the real processes, forms and zones."""
    for key, value in {"GOL_DATABASE_URL": db_url, "GOL_VAR_DIR": str(tmp_path / "var"),
                       "GOL_PROCESSES_DIR": str(ROOT / "processes"), "GOL_FORMS_DIR": str(ROOT / "forms"),
                       "GOL_ZONES_DIR": str(ROOT / "zones"), "GOL_CLI_USER": "amministratore"}.items():
        monkeypatch.setenv(key, value)
    common.settings.cache_clear()
    common.runtime.cache_clear()
    yield
    common.runtime().db.dispose()
    common.settings.cache_clear()
    common.runtime.cache_clear()


def test_users_add_prints_a_generated_password_once(cli_env, capsys) -> None:
    assert main(["users", "add", "mario.rossi", "--role", "cpi", "--zone", "pistoiese"]) == 0
    out = capsys.readouterr().out
    password = out.split("password (shown only now): ")[1].strip()
    assert len(password) >= 12
    assert users.authenticate(common.runtime(), "mario.rossi", password).zones == ("pistoiese",)
    assert main(["users", "list"]) == 0
    listing = capsys.readouterr().out
    assert "mario.rossi" in listing and password not in listing


def test_users_add_with_password_from_stdin(cli_env, capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("una-password-lunga\n"))
    assert main(["users", "add", "anna", "--role", "ats", "--zone", "valdinievole", "--password-stdin"]) == 0
    assert "shown only now" not in capsys.readouterr().out
    assert users.authenticate(common.runtime(), "anna", "una-password-lunga").role == "ats"


def test_users_add_refuses_bad_input(cli_env, capsys) -> None:
    assert main(["users", "add", "x", "--role", "cpi", "--zone", "atlantide"]) == 1
    assert "unknown zone" in capsys.readouterr().err
    main(["users", "add", "y", "--role", "cpi"])
    assert main(["users", "add", "y", "--role", "cpi"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_users_disable(cli_env, capsys) -> None:
    main(["users", "add", "luca", "--role", "sds", "--zone", "pistoiese"])
    password = capsys.readouterr().out.split("password (shown only now): ")[1].strip()
    assert main(["users", "disable", "luca"]) == 0
    with pytest.raises(users.LoginFailed):
        users.authenticate(common.runtime(), "luca", password)


def test_demo_is_idempotent(cli_env, capsys) -> None:
    assert main(["db", "upgrade"]) == 0 and main(["deploy"]) == 0
    capsys.readouterr()
    assert main(["demo"]) == 0
    first = capsys.readouterr().out
    assert "percorso4-demo" in first and "cpi.pistoiese" in first and "demo cases opened: 3" in first
    assert main(["demo"]) == 0
    second = capsys.readouterr().out
    assert "percorso4-demo" not in second and "demo cases opened: 0" in second
    roles = {u.role for u in users.list_users(common.runtime(), common.cli_actor())}
    assert roles == {"cpi", "sds", "specialist", "ats", "admin", "analyst", "manager"}


def test_users_notifications_sets_the_mode_and_address(cli_env, capsys) -> None:
    assert main(["users", "add", "anna", "--role", "cpi", "--zone", "pistoiese", "--email", "anna@example.it"]) == 0
    capsys.readouterr()
    assert main(["users", "notifications", "anna"]) == 0
    assert capsys.readouterr().out.strip() == "anna: notifications digest, e-mail anna@example.it"
    assert main(["users", "notifications", "anna", "--mode", "immediate"]) == 0
    assert capsys.readouterr().out.strip() == "anna: notifications immediate, e-mail anna@example.it"
    assert main(["users", "notifications", "anna", "--mode", "none", "--email", ""]) == 0
    assert "notifications none, e-mail (none" in capsys.readouterr().out
    assert main(["users", "notifications", "nessuno", "--mode", "none"]) == 1


def test_demo_refuses_to_run_in_production(cli_env, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GOL_PRODUCTION", "1")
    monkeypatch.setenv("GOL_SECRET_KEY", "a-production-secret-of-at-least-32-characters")
    common.settings.cache_clear()
    common.runtime.cache_clear()
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["demo"]) != 0
    captured = capsys.readouterr()
    assert "GOL_PRODUCTION" in captured.err and "refusing" in captured.err and "percorso4-demo" not in captured.out
    assert users.find_user(common.runtime(), "admin") is None


def _open_session(username: str) -> str:
    """A web session opened as if the person had logged in; returns its id hash."""
    user = users.find_user(common.runtime(), username)
    assert user is not None
    return sessions.digest(sessions.start(common.runtime(), user.id, {}))


def _live(id_hash: str) -> bool:
    with common.runtime().uow(write=False) as uow:
        return uow.conn.execute(web_sessions.select().where(web_sessions.c.id == id_hash)).first() is not None


def test_users_commands_that_change_an_account_end_its_sessions(cli_env, capsys, monkeypatch) -> None:
    main(["users", "add", "giulia", "--role", "sds", "--zone", "pistoiese"])
    main(["users", "add", "marco", "--role", "cpi", "--zone", "pistoiese"])
    other = _open_session("marco")
    for command in (["users", "update", "giulia", "--zone", "valdinievole"],
                    ["users", "update", "giulia", "--role", "cpi"],
                    ["users", "set-password", "giulia"],
                    ["users", "end-sessions", "giulia"],
                    ["users", "disable", "giulia"]):
        opened = _open_session("giulia")
        assert main(command) == 0, command
        assert not _live(opened), command
    assert _live(other)
    out = capsys.readouterr().out
    assert "giulia: cpi; zones: valdinievole" in out and "password (shown only now): " in out
    monkeypatch.setattr("sys.stdin", io.StringIO("un-altra-password\n"))
    assert main(["users", "set-password", "marco", "--password-stdin"]) == 0
    assert not _live(other)
    assert users.authenticate(common.runtime(), "marco", "un-altra-password").username == "marco"


def test_forecast_prints_the_projection_with_and_without_the_change(cli_env, capsys) -> None:
    assert main(["forecast", "--zone", "valdinievole", "--start", "2026-01-05", "--weeks", "65", "--people", "400",
                 "--case-managers", "2", "--cadence-weeks", "2"]) == 0
    out = capsys.readouterr().out
    assert "400 people over 65 weeks" in out
    lines = {line.split("  ")[0]: line.split() for line in out.splitlines()[2:]}
    # 400 people in 65 weeks: about 6.15 a week at weekly meetings, twice as many at fortnightly ones
    assert float(lines["situazione attuale"][-4]) == pytest.approx(400 / 65, rel=0.02)
    assert float(lines["riunioni ogni 2 settimane"][-4]) == pytest.approx(800 / 65, rel=0.03)
    assert main(["forecast", "--zone", "altrove", "--start", "2026-01-05", "--people", "4"]) == 2

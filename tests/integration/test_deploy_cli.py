"""`gol-workflow deploy` on a real database: all or nothing, and nothing new when nothing changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from gol_workflow.persistence.database import create_db_engine
from gol_workflow.persistence.tables import process_versions
from tests.integration.test_cli_validate import INVALID, gol
from tests.conftest import DATA


def versions(db_url: str) -> list[tuple[str, int]]:
    engine = create_db_engine(db_url, pool_size=0)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(process_versions.c.process_id, process_versions.c.version)).all()
    finally:
        engine.dispose()
    return sorted((row[0], row[1]) for row in rows)


@pytest.fixture
def home(tmp_path: Path, db_url: str) -> Path:
    """A working folder with processes/ and forms/, and the test database as GOL_DATABASE_URL."""
    shutil.copytree(INVALID / "linked", tmp_path / "processes")
    shutil.copytree(DATA / "forms", tmp_path / "forms")
    return tmp_path


def deploy(home: Path, db_url: str, *args: str):
    env = {"GOL_DATABASE_URL": db_url, "GOL_CLI_USER": "analista"}
    return gol("deploy", *args, "processes", "--forms", "forms", cwd=home, env=env)


def break_a_file(home: Path) -> None:
    path = home / "processes" / "chiamato.bpmn"
    path.write_text(path.read_text(encoding="utf-8").replace("fatto = True", "fatto = (True"), encoding="utf-8")


def test_deploy_stores_versions_once_and_nothing_new_when_unchanged(home: Path, db_url: str) -> None:
    first = deploy(home, db_url)
    assert (first.returncode, first.stderr) == (0, "")
    assert first.stdout.splitlines() == ["chiamante: version 1 (new version)", "chiamato: version 1 (new version)"]
    again = deploy(home, db_url)
    assert again.returncode == 0
    assert again.stdout.splitlines() == ["chiamante: version 1 (unchanged)", "chiamato: version 1 (unchanged)"]
    assert versions(db_url) == [("chiamante", 1), ("chiamato", 1)]


def test_deploy_refuses_with_the_report_and_deploys_nothing(home: Path, db_url: str) -> None:
    assert deploy(home, db_url).returncode == 0
    # A valid change to one file and a broken script in another: neither is deployed.
    caller = home / "processes" / "chiamante.bpmn"
    caller.write_text(caller.read_text(encoding="utf-8").replace("Decidi la fascia", "Decidi la fascia d'età"))
    break_a_file(home)
    refused = deploy(home, db_url)
    report = gol("validate", "processes", "--forms", "forms", cwd=home)
    assert refused.returncode == 1 and report.returncode == 1
    assert refused.stdout == report.stdout
    assert refused.stdout.startswith("processes/chiamato.bpmn:8: c_calcola: script does not compile: SyntaxError:")
    assert refused.stderr == "1 problem(s) in 1 file(s)\nerror: 1 problem(s) found: nothing was deployed\n"
    assert versions(db_url) == [("chiamante", 1), ("chiamato", 1)]


def test_deploy_check_prints_the_same_report_and_deploys_nothing(home: Path, db_url: str) -> None:
    clean = deploy(home, db_url, "--check")
    assert (clean.returncode, clean.stdout) == (0, "ok: 2 process(es) would deploy\n")
    break_a_file(home)
    checked = deploy(home, db_url, "--check")
    report = gol("validate", "processes", "--forms", "forms", cwd=home)
    assert checked.returncode == 1 and checked.stdout == report.stdout
    assert checked.stderr.endswith("error: nothing would be deployed\n")
    assert versions(db_url) == []


def test_a_change_deploys_a_new_version_of_what_changed(home: Path, db_url: str) -> None:
    assert deploy(home, db_url).returncode == 0
    called = home / "processes" / "chiamato.bpmn"
    called.write_text(called.read_text(encoding="utf-8").replace("fatto = True", "fatto = True\nvolte = 2"))
    changed = deploy(home, db_url)
    assert changed.returncode == 0
    # The caller bundles the process it calls, so it gets a new version too.
    assert changed.stdout.splitlines() == ["chiamante: version 2 (new version)", "chiamato: version 2 (new version)"]
    assert versions(db_url) == [("chiamante", 1), ("chiamante", 2), ("chiamato", 1), ("chiamato", 2)]

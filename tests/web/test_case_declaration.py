"""The case declaration file: deployed with the process, checked at deploy, the one source of the case's columns."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gol_workflow.domain.case_facts import CaseDeclarationError, declaration_from_dict, typed
from gol_workflow.domain.errors import DeploymentFailed
from gol_workflow.services.access import authorization
from tests.conftest import DATA, deploy_dir

from .conftest import start_case

ROME = ZoneInfo("Europe/Rome")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "processes"
    shutil.copytree(DATA / "web" / "processes", target)
    return target


def test_the_instance_columns_and_the_record_follow_the_declaration(runtime, folder, monkeypatch) -> None:
    (folder / "caso_web.case.toml").write_text(
        'process = "caso_web"\n[facts]\nzone = "zona"\nbeneficiary_name = "beneficiario.cognome"\n'
        'codice_fiscale = "beneficiario.codice_fiscale"\n', encoding="utf-8")
    deploy_dir(runtime, folder, DATA / "web" / "forms")
    case = start_case(runtime, "nord", "Laura", "Bianchi")
    with runtime.uow(write=False) as uow:
        assert uow.instances.header(case)["beneficiary_name"] == "Bianchi"  # the declared path, not a literal key
        assert uow.case_records.get(case)["beneficiary_name"] == "Bianchi"


def test_a_bad_declaration_is_reported_at_deploy_and_nothing_is_deployed(runtime, folder) -> None:
    (folder / "caso_web.case.toml").write_text('process = "caso_web"\n[facts]\numore = "x"\n', encoding="utf-8")
    with pytest.raises(DeploymentFailed) as failed:
        deploy_dir(runtime, folder, DATA / "web" / "forms")
    found = [p for p in failed.value.problems if p.file == "caso_web.case.toml"]
    assert len(found) == 1 and found[0].message.startswith("unknown fact 'umore'")
    with runtime.uow(write=False) as uow:
        assert uow.versions.latest("caso_web") is None


@pytest.mark.parametrize("raw", [
    {"facts": {"zone": "zona"}},  # no process
    {"process": "p", "facts": {"zone": {"path": "zona", "type": "date"}}},  # a fact's type is fixed
    {"process": "p", "facts": {"zone": {}}},  # no path
    {"process": "p", "completions": [{"count": "monitorings"}]},  # no task
    {"process": "p", "completions": [{"task": "t", "count": "visite"}]},  # unknown count
    {"process": "p", "completions": [{"task": "t", "time": "outcome"}]},  # time must be a datetime fact
])
def test_declarations_that_cannot_be_used_are_refused(raw) -> None:
    with pytest.raises(CaseDeclarationError):
        declaration_from_dict(raw, "x.case.toml")


def test_values_are_typed_and_what_does_not_fit_is_stored_empty() -> None:
    assert typed("birth_date", "date", "1980-01-01", ROME) == date(1980, 1, 1)
    assert typed("birth_date", "date", "2026-01-13T23:30:00+00:00", ROME) == date(2026, 1, 14)  # Rome's day
    assert typed("equipe_at", "datetime", "2026-01-13T09:30:00", ROME) == datetime(2026, 1, 13, 8, 30, tzinfo=UTC)
    assert typed("birth_date", "date", "31/02/1980", ROME) is None
    assert typed("percorso", "int", "quattro", ROME) is None
    assert typed("complex_needs", "bool", "sì", ROME) is None
    assert typed("codice_fiscale", "code", " bnclcu80a41g713x ", ROME) == "BNCLCU80A41G713X"
    assert typed("measures", "list", "tirocinio", ROME) == ["tirocinio"]


def test_facts_absent_from_the_data_are_left_out_and_only_if_empties_them() -> None:
    declared = declaration_from_dict({"process": "p", "facts": {
        "zone": "zona", "outcome": "esito",
        "specialist_services": {"path": "servizi", "only_if": "bisogni"},
    }}, "p.case.toml")
    assert declared.facts_from({"zona": "nord"}, ROME) == {"zone": "nord"}
    assert declared.facts_from({"bisogni": False, "servizi": ["x"]}, ROME) == {"specialist_services": []}
    assert declared.facts_from({"bisogni": True, "servizi": ["x"]}, ROME) == {"specialist_services": ["x"]}

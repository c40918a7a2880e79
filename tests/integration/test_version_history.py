"""Version history an analyst can read: note, author, date, what changed, the scenarios' result, running cases."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gol_workflow.cli import main
from gol_workflow.domain.model import Actor
from gol_workflow.services.administration import deployment, version_history
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ROOT

ANALYST = Actor(username="analista", role="analyst")


def _edited(tmp_path: Path) -> Path:
    """processes/ with one task renamed and one task added after profiling."""
    folder = tmp_path / "processes"
    shutil.copytree(ROOT / "processes", folder)
    bpmn = folder / "percorso4.bpmn"
    text = bpmn.read_text(encoding="utf-8")
    text = text.replace('name="Profilazione e assessment"', 'name="Profilazione e assessment iniziale"', 1)
    bpmn.write_text(text, encoding="utf-8")
    return folder


def test_each_version_lists_its_note_author_changes_scenarios_and_running_cases(
        runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    deployment.deploy(runtime, deployment.read_sources(ROOT / "processes", ROOT / "forms"), ANALYST,
                      note="Prima versione")
    scenarios = {"passed": 9, "failed": 0, "error": None, "failures": [], "coverage": {}, "ran_at": "2026-01-05"}
    deployment.deploy(runtime, deployment.read_sources(_edited(tmp_path), ROOT / "forms"), ANALYST,
                      note="Nome del compito di profilazione", scenarios=scenarios)
    records = version_history.history(runtime, ANALYST, "percorso4")
    assert [(r.version, r.note, r.author) for r in records] == [
        (2, "Nome del compito di profilazione", "analista"), (1, "Prima versione", "analista")]
    newest, first = records
    assert newest.changed == ["Profilazione e assessment (profilazione): bpmn_name"]
    assert (newest.added, newest.removed) == ([], [])
    assert newest.scenario_text == "scenarios 9/9 passed" and first.scenario_text == "scenarios not run"
    assert first.first and newest.running == 0

    monkeypatch.setenv("GOL_DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("GOL_VAR_DIR", str(runtime.settings.var_dir))
    assert main(["versions", "percorso4"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("v2  ") and out[0].endswith("+0 -0 ~1 elements  scenarios 9/9 passed  0 running case(s)")
    assert out[1:3] == ["    note: Nome del compito di profilazione",
                        "    changed: Profilazione e assessment (profilazione): bpmn_name"]
    assert "first version  scenarios not run" in out[3]
    assert main(["versions", "nessuno"]) == 2


def test_deploy_with_scenarios_refuses_a_version_whose_scenarios_fail(
        runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GOL_DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("GOL_VAR_DIR", str(runtime.settings.var_dir))
    folder = _edited(tmp_path)
    status = main(["deploy", str(folder), "--forms", str(ROOT / "forms"), "--zones", str(ROOT / "zones"),
                   "--scenarios", "--note", "rinomina"])
    out = capsys.readouterr().out
    assert status == 1
    assert "✗ Senza bisogni complessi viene assegnato un percorso diverso" in out and "expected: 'Profilazione e assessment' open" in out
    with runtime.uow(write=False) as uow:
        assert uow.versions.latest("percorso4") is None

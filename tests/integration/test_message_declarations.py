"""processes/messages.toml is checked with the process files: one `file:line: message: problem` line each."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gol_workflow.domain.errors import DeploymentFailed
from gol_workflow.services.administration import deployment
from tests.conftest import ADMIN, DATA, ROOT
from tests.integration.test_cli_validate import gol

BAD = """\
[conferma]
roles = ["cpi", "capo"]
schema = { type = "array" }

[mai_atteso]
roles = []

[esito]
form = "inesistente.schema.json"
colore = "rosso"
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The test processes (message_wait waits for `conferma`) with their forms."""
    shutil.copytree(DATA / "processes", tmp_path / "processes")
    shutil.copytree(DATA / "forms", tmp_path / "forms")
    return tmp_path


def test_the_shipped_declarations_are_valid() -> None:
    sources, validation = deployment.validate_path(ROOT / "processes", ROOT / "forms")
    assert sources.messages is not None and validation.problems == []


def test_every_problem_of_the_declarations_is_reported_on_its_line(workspace: Path) -> None:
    (workspace / "processes" / "messages.toml").write_text(BAD)
    run = gol("validate", "processes", "--forms", "forms", cwd=workspace)
    assert run.returncode == 1
    path = str(Path("processes") / "messages.toml")
    lines = set(run.stdout.splitlines())
    assert f"{path}:1: conferma: unknown role 'capo' (one of analyst, ats, cpi, manager, sds, specialist; administrators and the service may always send)" in lines
    assert f'{path}:1: conferma: the payload schema must describe an object ("type": "object")' in lines
    assert f"{path}:5: mai_atteso: no process waits for the message 'mai_atteso'" in lines
    assert f"{path}:8: esito: form 'inesistente.schema.json' does not exist in the forms folder" in lines
    assert f"{path}:8: esito: unknown key 'colore' (expected roles, schema, form, description)" in lines


def test_a_file_that_is_not_toml_is_reported_with_its_line(workspace: Path) -> None:
    (workspace / "processes" / "messages.toml").write_text("[conferma]\nroles = = 1\n")
    run = gol("validate", "processes", "--forms", "forms", cwd=workspace)
    assert run.returncode == 1
    path = str(Path("processes") / "messages.toml")
    assert any(line.startswith(f"{path}:2: -: not valid TOML") for line in run.stdout.splitlines())


def test_deploy_refuses_invalid_declarations(runtime, workspace: Path) -> None:
    (workspace / "processes" / "messages.toml").write_text(BAD)
    with pytest.raises(DeploymentFailed):
        deployment.deploy(runtime, deployment.read_sources(workspace / "processes", workspace / "forms"), ADMIN)

"""`gol-workflow validate` as analysts run it: one line per problem, exit 0 / 1 / 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT
from tests.unit.test_validation_rules import line_of

INVALID = DATA / "invalid"
CLI = str(Path(sys.executable).parent / "gol-workflow")


def gol(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed command in a clean home: its own var folder, the repository's zones and roles."""
    environment = {**os.environ, "GOL_VAR_DIR": str(cwd / "var"), "GOL_ZONES_DIR": str(ROOT / "zones"),
                   "GOL_ROLES_FILE": str(ROOT / "processes" / "roles.toml")}
    environment.pop("GOL_DATABASE_URL", None)
    environment.update(env or {})
    return subprocess.run([CLI, *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=120)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A folder with processes/ (files that go together) and forms/."""
    shutil.copytree(INVALID / "linked", tmp_path / "processes")
    shutil.copytree(DATA / "forms", tmp_path / "forms")
    return tmp_path


def test_a_valid_folder_is_ok_with_exit_0(workspace: Path) -> None:
    run = gol("validate", "processes", "--forms", "forms", cwd=workspace)
    assert (run.returncode, run.stderr) == (0, "")
    assert run.stdout == "ok: 3 file(s), 2 executable process(es), 2 form(s)\n"


def test_every_problem_is_one_line_with_the_path_as_given_and_exit_1(workspace: Path) -> None:
    shutil.copy(INVALID / "gateways.bpmn", workspace / "processes")
    (workspace / "forms" / "rotto.schema.json").write_text('{\n  "type": "object",\n  "properties": {,}\n}\n')
    run = gol("validate", "processes", "--forms", "forms", cwd=workspace)
    gateways = workspace / "processes" / "gateways.bpmn"
    no, sanitario, parallel = (line_of(gateways, f'id="{flow}"') for flow in ("gf_no", "gf_sanitario", "gf_a"))
    assert run.returncode == 1
    assert run.stdout.splitlines() == [
        f"processes/gateways.bpmn:{no}: gf_no: flow out of exclusive gateway scelta "
        "has no condition and is not the gateway's default flow",
        f"processes/gateways.bpmn:{sanitario}: gf_sanitario: flow out of inclusive "
        "gateway servizi has no condition and is not the gateway's default flow",
        f"processes/gateways.bpmn:{parallel}: gf_a: condition on a flow out of parallel "
        "gateway divisione is ignored: use an exclusive or inclusive gateway",
        "forms/rotto.schema.json:3: -: not valid JSON: Expecting property name enclosed in double quotes (column 18)",
    ]
    assert run.stderr == "4 problem(s) in 2 file(s)\n"


def test_a_single_file_is_validated_alone(workspace: Path) -> None:
    run = gol("validate", str(workspace / "processes" / "chiamante.bpmn"), "--forms", "forms", cwd=workspace)
    assert run.returncode == 1
    assert [line.split(": ", 2)[1] for line in run.stdout.splitlines()] == ["decidi_fascia", "chiama"]
    assert all(line.startswith(f"{workspace}/processes/chiamante.bpmn:") for line in run.stdout.splitlines())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["validate", "manca"], "error: manca: no such file or folder\n"),
        (["validate", "forms"], "error: forms: no .bpmn or .dmn files\n"),
        (["validate", "forms/step.schema.json"], "error: forms/step.schema.json: not a .bpmn or .dmn file\n"),
        (["deploy", "--check", "manca"], "error: manca: no such file or folder\n"),
        (["validate", "processes", "--forms", "moduli"], "error: moduli: no such forms folder\n"),
    ],
)
def test_nothing_to_read_is_a_usage_error_with_exit_2(workspace: Path, args: list[str], message: str) -> None:
    run = gol(*args, cwd=workspace)
    assert (run.returncode, run.stdout, run.stderr) == (2, "", message)


def test_without_a_forms_folder_form_names_are_not_checked_and_it_says_so(workspace: Path) -> None:
    shutil.rmtree(workspace / "forms")
    shutil.copy(INVALID / "user_tasks.bpmn", workspace / "processes")
    run = gol("validate", "processes", cwd=workspace)
    assert run.returncode == 1
    assert run.stderr.splitlines()[0] == "note: forms folder forms not found: the forms user tasks name are not checked"
    assert "does not exist in the forms folder" not in run.stdout
    assert "senza_modulo: warning: user task names no form" in run.stdout


def test_bad_arguments_are_a_usage_error_with_exit_2(workspace: Path) -> None:
    run = gol("validate", cwd=workspace)
    assert run.returncode == 2 and "the following arguments are required: path" in run.stderr
    assert "Traceback" not in run.stderr

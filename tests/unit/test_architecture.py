"""The layering rules hold: web/CLI → services → engine/forms/persistence → domain; only the engine imports SpiffWorkflow."""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


ALLOWED = {
    "Only the engine imports SpiffWorkflow": {"gol_workflow.engine"},
    "Only the web and the API import Flask": {"gol_workflow.web", "gol_workflow.api"},
    "Only persistence (and its migrations) import SQLAlchemy": {"gol_workflow.persistence", "gol_workflow.migrations"},
}


def test_each_library_contract_covers_every_module_but_the_allowed_ones() -> None:
    import gol_workflow

    top = {f"gol_workflow.{m.name}" for m in pkgutil.iter_modules(gol_workflow.__path__)}
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    by_name = {c["name"]: c for c in contracts}
    for name, allowed in ALLOWED.items():
        assert set(by_name[name]["source_modules"]) == top - allowed, name


@pytest.mark.parametrize(("module", "line"), [
    ("gol_workflow/services/zones.py", "import flask"),
    ("gol_workflow/forms/coercion.py", "import werkzeug"),
    ("gol_workflow/services/zones.py", "import sqlalchemy"),
    ("gol_workflow/web/filters.py", "import sqlalchemy"),
    ("gol_workflow/bootstrap.py", "import SpiffWorkflow"),
    ("gol_workflow/scheduler.py", "import SpiffWorkflow"),
])
def test_a_forbidden_import_breaks_a_contract(tmp_path: Path, module: str, line: str) -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    copy = tmp_path / "tree"
    shutil.copytree(ROOT / "gol_workflow", copy / "gol_workflow", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    with (copy / module).open("a") as source:
        source.write(f"\n{line}  # added by the test\n")
    result = subprocess.run([lint, "--no-cache"], cwd=copy, capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0, result.stdout


def test_importing_every_module_builds_nothing(tmp_path: Path) -> None:
    var = tmp_path / "var"
    code = (
        "import importlib, pkgutil, gol_workflow\n"
        "for m in pkgutil.walk_packages(gol_workflow.__path__, 'gol_workflow.'):\n"
        "    if '.migrations.' not in m.name + '.':\n"
        "        importlib.import_module(m.name)\n"
    )
    env = {"GOL_VAR_DIR": str(var), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert not var.exists(), "importing a module created files: something is built at import time"
    assert list(tmp_path.iterdir()) == [], list(tmp_path.iterdir())

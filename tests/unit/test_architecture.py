"""The layering rules hold: web/CLI → services → engine/forms/persistence → domain; only the engine imports SpiffWorkflow."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


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

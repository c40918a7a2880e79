"""`gol-workflow validate` and `gol-workflow deploy`: what analysts run on process files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..domain.model import Problem
from ..services import deployment
from .common import cli_actor, fail, runtime, settings


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `validate` and `deploy` commands."""
    validate = commands.add_parser("validate", help="check BPMN/DMN files and forms; print file:line: element: message")
    validate.add_argument("path", type=Path, help="a .bpmn/.dmn file or a folder of them")
    validate.add_argument("--forms", type=Path, default=None, help="forms folder (default GOL_FORMS_DIR)")
    validate.set_defaults(handler=_validate)
    deploy = commands.add_parser("deploy", help="validate and store new versions of changed processes")
    deploy.add_argument("path", type=Path, nargs="?", default=None, help="processes folder (default GOL_PROCESSES_DIR)")
    deploy.add_argument("--forms", type=Path, default=None, help="forms folder (default GOL_FORMS_DIR)")
    deploy.add_argument("--check", action="store_true", help="only validate; deploy nothing")
    deploy.set_defaults(handler=_deploy)


def _print(problems: list[Problem], base: Path) -> None:
    for problem in problems:
        shown = base / problem.file if base.is_dir() and problem.file and not Path(problem.file).is_absolute() else problem.file
        print(Problem(str(shown), problem.line, problem.element, problem.message))


def _sources(path: Path, forms: Path | None) -> deployment.Sources | None:
    if not path.exists():
        return None
    return deployment.read_sources(path, forms)


def _validate(args: argparse.Namespace) -> int:
    path: Path = args.path
    if not path.exists():
        return fail(f"{path}: no such file or folder", 2)
    forms_dir = args.forms
    if forms_dir is None:
        forms_dir = settings().forms_dir
    sources = _sources(path, forms_dir)
    assert sources is not None
    if not sources.processes:
        return fail(f"{path}: no .bpmn or .dmn files", 2)
    problems, _, process_ids = deployment.validate(sources, with_forms=forms_dir.is_dir())
    _print(problems, path)
    if problems:
        print(f"{len(problems)} problem(s) in {len(sources.processes)} file(s)", file=sys.stderr)
        return 1
    print(f"ok: {len(sources.processes)} file(s), {len(process_ids)} executable process(es), {len(sources.forms)} form(s)")
    return 0


def _deploy(args: argparse.Namespace) -> int:
    path: Path = args.path or settings().processes_dir
    forms_dir: Path = args.forms or settings().forms_dir
    if not path.exists():
        return fail(f"{path}: no such file or folder", 2)
    sources = deployment.read_sources(path, forms_dir)
    if not sources.processes:
        return fail(f"{path}: no .bpmn or .dmn files", 2)
    if args.check:
        problems, _, ids = deployment.validate(sources)
        _print(problems, path)
        if problems:
            return fail(f"{len(problems)} problem(s) found: nothing would be deployed")
        print(f"ok: {len(ids)} process(es) would deploy")
        return 0
    try:
        report = deployment.deploy(runtime(), sources, cli_actor())
    except deployment.DeploymentFailed as exc:
        _print(exc.problems, path)  # type: ignore[arg-type]
        return fail(exc.message)
    for item in report.processes:
        state = "new version" if item.changed else "unchanged"
        print(f"{item.process_id}: version {item.version} ({state})")
    return 0

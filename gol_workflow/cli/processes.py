"""`gol-workflow validate` and `gol-workflow deploy`: what analysts run on process files.

Exit status: 0 valid (or deployed), 1 invalid, 2 usage error (nothing to read, bad arguments).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..bootstrap import bootstrap
from ..domain.errors import DeploymentFailed, NotFound
from ..domain.model import Problem
from ..services.administration import deployment
from ..services.scenarios.suite import run_suite
from .common import cli_actor, fail, runtime, settings

USAGE_ERROR = 2


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `validate` and `deploy` commands."""
    validate = commands.add_parser(
        "validate",
        help="check BPMN/DMN files and forms; print file:line: element: message",
        description="Validate a .bpmn/.dmn file alone, or a folder's files together. "
        "Exit status: 0 valid, 1 problems found, 2 usage error.",
    )
    validate.add_argument("path", type=Path, help="a .bpmn/.dmn file or a folder of them")
    validate.add_argument("--forms", type=Path, default=None, help="forms folder (default GOL_FORMS_DIR)")
    validate.set_defaults(handler=_validate)
    deploy = commands.add_parser(
        "deploy",
        help="validate and store new versions of changed processes",
        description="Validate every process file and form, then store a new version of each changed process. "
        "Nothing is deployed when any problem is found.",
    )
    deploy.add_argument("path", type=Path, nargs="?", default=None, help="processes folder (default GOL_PROCESSES_DIR)")
    deploy.add_argument("--forms", type=Path, default=None, help="forms folder (default GOL_FORMS_DIR)")
    deploy.add_argument("--check", action="store_true", help="only validate and print the report; deploy nothing")
    deploy.add_argument("--note", default=None, help="what this version changes (shown by `versions`)")
    deploy.add_argument("--scenarios", action="store_true",
                        help="run DIR/scenarios/*.yaml first; deploy nothing if one fails; keep the result with the version")
    deploy.add_argument("--zones", type=Path, default=None, help="zones folder for --scenarios (default GOL_ZONES_DIR)")
    deploy.set_defaults(handler=_deploy)


def print_problems(problems: list[Problem], sources: deployment.Sources) -> None:
    """One `file:line: element: message` line per problem on stdout, then a count on stderr."""
    for problem in problems:
        print(Problem(sources.where(problem.file), problem.line, problem.element, problem.message))
    files = len({p.file for p in problems})
    print(f"{len(problems)} problem(s) in {files} file(s)", file=sys.stderr)


def print_warnings(warnings: list[Problem], sources: deployment.Sources) -> None:
    """One line per warning on stdout (the files deploy anyway)."""
    for warning in warnings:
        print(Problem(sources.where(warning.file), warning.line, warning.element, warning.message, True))


def _forms_dir(args: argparse.Namespace) -> Path | None:
    """The forms folder to check against; None (after a note) when the default one is absent."""
    if args.forms is not None:
        if not args.forms.is_dir():
            raise NotFound(f"{args.forms}: no such forms folder")
        return args.forms
    default: Path = settings().forms_dir
    if not default.is_dir():
        print(f"note: forms folder {default} not found: the forms user tasks name are not checked", file=sys.stderr)
        return None
    return default


def _validate(args: argparse.Namespace) -> int:
    try:
        forms_dir = _forms_dir(args)
        operators, lanes = deployment.service_vocabulary(runtime())
        sources, result = deployment.validate_path(args.path, forms_dir, operators, lanes)
    except NotFound as exc:
        return fail(exc.message, USAGE_ERROR)
    if result.problems:
        print_problems(result.problems, sources)
        print_warnings(result.warnings, sources)
        return 1
    print_warnings(result.warnings, sources)
    print(f"ok: {result.files} file(s), {len(result.process_ids)} executable process(es), {result.forms} form(s)")
    return 0


def _deploy(args: argparse.Namespace) -> int:
    path: Path = args.path or settings().processes_dir
    forms_dir: Path = args.forms or settings().forms_dir
    try:
        sources = deployment.read_sources(path, forms_dir)
    except NotFound as exc:
        return fail(exc.message, USAGE_ERROR)
    rt = runtime()
    if args.check:
        result = deployment.check(rt, sources)
        if result.problems:
            print_problems(result.problems, sources)
            return fail("nothing would be deployed")
        print_warnings(result.warnings, sources)
        print(f"ok: {len(result.process_ids)} process(es) would deploy")
        return 0
    summary = None
    if args.scenarios:
        suite = run_suite(bootstrap, path, forms_dir, args.zones or settings().zones_dir, sources)
        summary = suite.summary(rt.now())
        print(f"scenarios: {suite.passed} passed, {suite.failed} failed")
        for failure in summary["failures"]:
            print(f"✗ {failure['name']} ({failure['file']})\n{failure['text']}")
        if not suite.ok:
            return fail(suite.error or "a scenario failed: nothing was deployed")
    try:
        report = deployment.deploy(rt, sources, cli_actor(), note=args.note, scenarios=summary)
    except DeploymentFailed as exc:
        print_problems(exc.problems, sources)  # type: ignore[arg-type]
        return fail(exc.message)
    print_warnings(report.warnings, sources)
    for item in report.processes:
        state = "new version" if item.changed else "unchanged"
        print(f"{item.process_id}: version {item.version} ({state})")
    if not report.processes:
        print("nothing to deploy: no executable process")
    return 0

"""`gol-workflow test [DIR]`: run the analysts' scenario files in-process and report coverage."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..bootstrap import bootstrap
from ..services.administration import deployment
from ..services.scenarios.coverage import coverage, write_html
from ..services.scenarios.files import ScenarioFileError, parse_scenario, scenario_accounts, scenario_files
from ..services.scenarios.runner import run_scenario, workspace
from .common import fail


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `test` command."""
    parser = commands.add_parser("test", help="run the scenario files (DIR/scenarios/*.yaml) and report coverage")
    parser.add_argument("directory", nargs="?", default="processes",
                        help="the process folder (its scenarios/ subfolder holds the scenarios), or one scenario file; "
                             "default processes")
    parser.add_argument("--forms", type=Path, help="forms folder (default: DIR/../forms)")
    parser.add_argument("--zones", type=Path, help="zones folder (default: DIR/../zones)")
    parser.add_argument("--coverage", action="store_true", help="print coverage per process")
    parser.add_argument("--coverage-html", type=Path, metavar="OUT", help="write an HTML coverage report to OUT/")
    parser.add_argument("--min-nodes", type=float, default=0.0, help="fail below this %% of flow nodes per process")
    parser.add_argument("--min-flows", type=float, default=0.0, help="fail below this %% of sequence flows per process")
    parser.add_argument("-k", dest="select", help="run only scenarios whose name or file contains this text")
    parser.set_defaults(handler=_test)


def _test(args: argparse.Namespace) -> int:
    folder = Path(args.directory)
    if folder.is_file():  # one scenario file, in DIR/scenarios/ or beside the BPMN
        files = [folder]
        folder = folder.parent
    else:
        files = scenario_files(folder)
    processes = folder if any(folder.glob("*.bpmn")) else folder.parent
    if not files:
        return fail(f"no scenario files in {folder} (expected {folder}/scenarios/*.yaml)", 2)
    try:
        scenarios = [parse_scenario(f) for f in files]
        for where in sorted({s.path.parent for s in scenarios}):
            scenario_accounts(where)
    except ScenarioFileError as exc:
        return fail(str(exc), 2)
    if args.select:
        scenarios = [s for s in scenarios if args.select in s.name or args.select in s.path.name]
    results = []
    with workspace(bootstrap, processes, args.forms, args.zones) as space:
        sources = deployment.read_sources(space.processes, space.forms)
        for scenario in scenarios:
            result = run_scenario(space, scenario, sources)
            mark = "✓" if result.passed else "✗"
            print(f"{mark} {result.name} ({result.path.name}) {result.seconds:.2f}s", flush=True)
            if result.failure is not None:
                print(result.failure.text(), flush=True)
            results.append(result)
    failed = sum(not r.passed for r in results)
    print(f"{len(results) - failed} passed, {failed} failed")
    status = 1 if failed else 0
    wants_coverage = args.coverage or args.coverage_html or args.min_nodes or args.min_flows
    if not wants_coverage:
        return status
    report = [c for c in coverage(processes, results) if c.nodes]
    for item in report:
        print(f"coverage {item.process_id}: flow nodes {item.node_percent:.1f}% ({len(item.taken_nodes)}/"
              f"{len(item.nodes)}), sequence flows {item.flow_percent:.1f}% "
              f"({len(item.taken_flows)}/{len(item.flows)})")
        for missed in item.missed_nodes():
            print(f"  node not reached: {missed}")
        for missed in item.missed_flows():
            print(f"  flow not taken: {missed}")
        if item.node_percent < args.min_nodes or item.flow_percent < args.min_flows:
            print(f"  below the threshold (--min-nodes {args.min_nodes:g} --min-flows {args.min_flows:g})")
            status = 1
    if args.coverage_html:
        modules = next((m for m in (Path.cwd() / "node_modules", processes.resolve().parent / "node_modules")
                        if m.is_dir()), Path("node_modules"))
        try:
            page = write_html(report, args.coverage_html, modules)
        except FileNotFoundError as exc:
            return fail(str(exc), 2)
        print(f"coverage report: {page}")
    return status

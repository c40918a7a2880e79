"""`gol-workflow cases rebuild`: (re)build the case records from the instances' data and audit log."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from ..services.cases import case_records
from ..services.workflow.instances import read_workflow
from . import common


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `cases` command."""
    parser = commands.add_parser("cases", help="the case records behind the case list")
    sub = parser.add_subparsers(dest="cases_command", metavar="ACTION")
    sub.required = True
    rebuild = sub.add_parser("rebuild", help="(re)build every case record from its instance (e.g. after upgrading)")
    rebuild.add_argument("--batch", type=int, default=200, help="instances per transaction (default 200)")
    rebuild.set_defaults(handler=_rebuild)


def _rebuild(args: argparse.Namespace) -> int:
    rt = common.runtime()

    def data_of(uow: Any, header: Mapping[str, Any], _version: Any) -> Mapping[str, Any]:
        return read_workflow(rt, uow, str(header["id"]), lambda loaded: loaded.handle.data())

    report = case_records.rebuild(rt, data_of, batch=max(1, args.batch))
    print(f"{report.rebuilt} case records rebuilt; {report.skipped} instances of processes without a case record")
    return 0

"""`gol-workflow archive`: move closed cases' state and audit rows out of the hot tables."""

from __future__ import annotations

import argparse

from ..services.administration import archive
from .common import runtime


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `archive` command."""
    parser = commands.add_parser(
        "archive", help="move the state and audit rows of cases closed more than N months ago to the archive tables")
    parser.add_argument("--months", type=int, default=12, help="archive cases closed before this many months ago")
    parser.add_argument("--batch", type=int, default=500, help="cases per transaction")
    parser.add_argument("--max-batches", type=int, default=None, help="stop after this many batches (default: all)")
    parser.set_defaults(handler=_archive)


def _archive(args: argparse.Namespace) -> int:
    rt = runtime()
    report = archive.archive_closed(rt, args.months, args.batch, args.max_batches)
    counts = archive.archive_counts(rt)
    print(f"closed before {report.closed_before.isoformat(timespec='seconds')}: archived {report.instances} "
          f"instance(s) in {report.batches} batch(es), {report.audit_rows} audit row(s), "
          f"{report.state_chars} characters of state")
    print(f"the archive now holds {counts['instances']} instance(s) and {counts['audit_rows']} audit row(s)")
    return 0

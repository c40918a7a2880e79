"""`gol-workflow demo`: demo accounts for every role and zone, and a few demo cases (idempotent)."""

from __future__ import annotations

import argparse

from ..services.administration import demo
from .common import cli_actor, runtime


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `demo` command."""
    parser = commands.add_parser("demo", help="create demo users and cases (safe to run again; refused when GOL_PRODUCTION is set)")
    parser.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    report = demo.ensure_demo(runtime(), cli_actor())
    if report.created_users:
        print(f"demo users created (password for all, shown only now: {demo.DEMO_PASSWORD}):")
        for username in report.created_users:
            print(f"  {username}")
    if report.existing_users:
        print(f"demo users already present: {', '.join(report.existing_users)}")
    if report.skipped_cases:
        print(f"demo cases not created: {report.skipped_cases}")
    else:
        print(f"demo cases opened: {len(report.cases)}")
    return 0

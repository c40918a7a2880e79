"""`gol-workflow doctor`: check an installation's configuration and report every problem at once."""

from __future__ import annotations

import argparse

from ..services.administration import doctor


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `doctor` command."""
    parser = commands.add_parser(
        "doctor", help="check settings, database, schema, zones, processes, SMTP and IDOL; report every problem")
    parser.add_argument("--no-smtp", action="store_true", help="do not open a session with the mail server")
    parser.set_defaults(handler=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    findings = doctor.examine(smtp_probe=not args.no_smtp)
    width = max(len(f.subject) for f in findings)
    for finding in findings:
        print(f"{'ok  ' if finding.ok else 'FAIL'}  {finding.subject.ljust(width)}  {finding.detail}")
    failed = [f for f in findings if not f.ok]
    print(f"{len(failed)} problem(s)" if failed else "everything checked is in order")
    return 1 if failed else 0

"""`gol-workflow timers`: what falls due next (timers, meeting cut-offs, e-mail), and running what is due now."""

from __future__ import annotations

import argparse
from zoneinfo import ZoneInfo

from ..services.administration import scheduling
from ..services.workflow.due_work import run_due_work
from .common import runtime, settings


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `timers` command."""
    parser = commands.add_parser("timers", help="list or run due timers, meeting cut-offs and e-mail")
    sub = parser.add_subparsers(dest="timers_command", metavar="ACTION")
    sub.required = True
    listing = sub.add_parser("list", help="show what falls due next (instance or meeting, element, due time)")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(handler=_list)
    run_due = sub.add_parser("run-due", help="run everything due now once (timers, cut-offs, e-mail) and exit")
    run_due.set_defaults(handler=_run_due)


def _list(args: argparse.Namespace) -> int:
    zone = ZoneInfo(settings().timezone)
    items = scheduling.due_items(runtime(), args.limit)
    if not items:
        print("nothing waiting: no timers, meeting cut-offs or e-mail")
        return 0
    print(f"{'due (local time)':<26} {'kind':<8} {'instance / meeting / e-mail':<36}  waiting for")
    for item in items:
        due = item.due_at.astimezone(zone).isoformat(timespec="seconds")
        detail = f" ({item.detail})" if item.detail else ""
        print(f"{due:<26} {item.kind:<8} {item.ref:<36}  {item.what}{detail}")
    return 0


def _run_due(args: argparse.Namespace) -> int:
    report = run_due_work(runtime())
    print(f"timers fired: {report.timers_fired} instance(s)")
    print(f"meetings convened: {len(report.meetings_convened)}, held no meeting (empty agenda): "
          f"{len(report.meetings_cancelled)}, could not be convened: {len(report.meetings_failed)}")
    print(f"e-mails sent: {report.mail.sent}, waiting for a retry: {report.mail.retrying}, refused: {report.mail.failed}")
    return 0

"""`gol-workflow timers`: what is due next, and firing what is due now."""

from __future__ import annotations

import argparse
from zoneinfo import ZoneInfo

from ..services import timers
from .common import runtime, settings


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `timers` command."""
    parser = commands.add_parser("timers", help="list or fire due timers")
    sub = parser.add_subparsers(dest="timers_command", metavar="ACTION")
    sub.required = True
    listing = sub.add_parser("list", help="show the next timers (instance, element, due time)")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(handler=_list)
    run_due = sub.add_parser("run-due", help="fire everything due now, once, and exit")
    run_due.set_defaults(handler=_run_due)


def _list(args: argparse.Namespace) -> int:
    zone = ZoneInfo(settings().timezone)
    rows = timers.upcoming(runtime(), args.limit)
    if not rows:
        print("no timers waiting")
        return 0
    print(f"{'due (local time)':<26} {'instance':<36}  {'process':<20} waiting for")
    for row in rows:
        due = row["next_due_at"].astimezone(zone).isoformat(timespec="seconds")
        print(f"{due:<26} {row['id']:<36}  {row['process_id']:<20} {row['current_step'] or ''}")
    return 0


def _run_due(args: argparse.Namespace) -> int:
    fired = timers.run_due_timers(runtime())
    print(f"fired timers of {fired} instance(s)")
    return 0

"""`gol-workflow clock`: show or move the simulated clock (only with GOL_CLOCK=simulated)."""

from __future__ import annotations

import argparse
from datetime import datetime
from zoneinfo import ZoneInfo

from ..services.workflow import clock
from ..services.administration import scheduling
from ..services.workflow.clock import ClockMove
from .common import cli_actor, runtime, settings


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `clock` command."""
    parser = commands.add_parser("clock", help="show or move the simulated clock (GOL_CLOCK=simulated)")
    sub = parser.add_subparsers(dest="clock_command", metavar="ACTION")
    sub.required = True
    show = sub.add_parser("show", help="print the current time and what falls due next")
    show.set_defaults(handler=_show)
    set_ = sub.add_parser("set", help="set the time; moving forward fires every timer passed, in order")
    set_.add_argument("moment", metavar="ISO-DATETIME", help="e.g. 2026-03-02T09:00 (local time) or with an offset")
    set_.set_defaults(handler=_set)
    advance = sub.add_parser("advance", help="move forward by a duration, firing every timer passed, in order")
    advance.add_argument("duration", metavar="ISO-DURATION", help="e.g. P1D, PT2H, P5M, P1Y")
    advance.set_defaults(handler=_advance)


def _local(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(settings().timezone)).isoformat(timespec="seconds")


def _show(args: argparse.Namespace) -> int:
    rt = runtime()
    mode = "simulated" if clock.is_simulated(rt) else "real time (not simulated)"
    print(f"now: {_local(rt.now())}  [{mode}]")
    items = scheduling.due_items(rt, 5)
    for item in items:
        print(f"next: {_local(item.due_at)}  {item.kind:<7} {item.what}")
    if not items:
        print("next: nothing waiting")
    return 0


def _set(args: argparse.Namespace) -> int:
    rt = runtime()
    clock.require_simulated(rt)
    move = clock.set_clock(rt, clock.parse_moment(rt, args.moment), cli_actor())
    _print_move(move)
    return 0


def _advance(args: argparse.Namespace) -> int:
    move = clock.advance_clock(runtime(), args.duration, cli_actor())
    _print_move(move)
    return 0


def _print_move(move: ClockMove) -> None:
    report = move.report
    print(f"clock: {_local(move.start)} -> {_local(move.end)}" + ("  (moved back: nothing fired)" if move.backwards else ""))
    if move.backwards:
        return
    print(f"stopped at {move.steps} due moment(s) on the way")
    print(f"timers fired: {report.timers_fired}")
    print(f"meetings convened: {len(report.meetings_convened)}, held no meeting (empty agenda): "
          f"{len(report.meetings_cancelled)}, could not be convened: {len(report.meetings_failed)}")
    print(f"e-mails sent: {report.mail.sent}, waiting for a retry: {report.mail.retrying}, refused: {report.mail.failed}")

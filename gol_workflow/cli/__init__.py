"""The `gol-workflow` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import clock, db, demo, processes, scheduler, timers, users, web
from .common import run_command


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="gol-workflow",
        description="BPMN workflow service for the GOL Percorso 4 \"Lavoro e Inclusione\" path.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for module in (db, processes, timers, scheduler, clock, users, demo, web):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse arguments and run the chosen command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())

"""`gol-workflow clock`: the simulated clock (only with GOL_CLOCK=simulated)."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `clock` command."""
    parser = commands.add_parser("clock", help="show or move the simulated clock")
    parser.set_defaults(handler=lambda args: parser.print_help() or 2)

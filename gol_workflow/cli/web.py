"""`gol-workflow serve`: the web service."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `serve` command."""
    parser = commands.add_parser("serve", help="run the web service (local default)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.set_defaults(handler=lambda args: parser.print_help() or 2)

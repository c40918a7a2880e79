"""The `gol-workflow` command line."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .common import run_command

# Command -> the module that defines it. Only the chosen command's module is imported, so
# `validate` does not pay for the web stack, the PDF library or the scheduler.
COMMANDS = {
    "db": "db",
    "validate": "processes",
    "deploy": "processes",
    "versions": "versions",
    "timers": "timers",
    "scheduler": "scheduler",
    "clock": "clock",
    "users": "users",
    "demo": "demo",
    "serve": "web",
    "cases": "cases",
    "test": "scenarios",
    "doctor": "doctor",
    "backup": "backup",
    "restore": "backup",
    "forecast": "forecast",
    "archive": "archive",
    "retention": "retention",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: every subcommand, or only `command`'s module when it is known."""
    parser = argparse.ArgumentParser(
        prog="gol-workflow",
        description="BPMN workflow service for the GOL Percorso 4 \"Lavoro e Inclusione\" path.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    modules = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for name in modules:
        importlib.import_module(f"{__name__}.{name}").register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse arguments and run the chosen command."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in arguments if not a.startswith("-")), None)
    args = build_parser(command).parse_args(arguments)
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())

"""`gol-workflow versions PROCESS`: the deployed versions with note, author, date, changes, scenarios, running cases."""

from __future__ import annotations

import argparse

from ..domain.errors import NotFound
from ..services.administration import version_history
from .common import cli_actor, fail, runtime


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `versions` command."""
    parser = commands.add_parser("versions", help="list a process's versions and what each changed")
    parser.add_argument("process", help="the process id, e.g. percorso4")
    parser.set_defaults(handler=_versions)


def _versions(args: argparse.Namespace) -> int:
    rt = runtime()
    try:
        records = version_history.history(rt, cli_actor(), args.process)
    except NotFound as exc:
        return fail(exc.message, 2)
    for record in records:
        when = record.deployed_at.astimezone().strftime("%Y-%m-%d %H:%M")
        if record.first:
            summary = "first version"
        else:
            summary = f"+{len(record.added)} -{len(record.removed)} ~{len(record.changed)} elements"
        print(f"v{record.version}  {when}  {record.author}  {summary}  {record.scenario_text}  "
              f"{record.running} running case(s)")
        print(f"    note: {record.note or '-'}")
        for label, items in (("added", record.added), ("removed", record.removed), ("changed", record.changed)):
            for item in items:
                print(f"    {label}: {item}")
    return 0

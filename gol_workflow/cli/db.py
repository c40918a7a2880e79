"""`gol-workflow db`: schema migrations."""

from __future__ import annotations

import argparse

from ..persistence import schema
from .common import runtime


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `db` command."""
    parser = commands.add_parser("db", help="create or upgrade the database schema")
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION")
    sub.required = True
    upgrade = sub.add_parser("upgrade", help="apply every pending migration")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(handler=_upgrade)
    current = sub.add_parser("current", help="print the schema revision")
    current.set_defaults(handler=_current)


def _upgrade(args: argparse.Namespace) -> int:
    rt = runtime()
    before = schema.current_revision(rt.db)
    schema.upgrade(rt.db, args.revision)
    after = schema.current_revision(rt.db)
    print(f"database at revision {after}" + ("" if before == after else f" (was {before or 'empty'})"))
    return 0


def _current(args: argparse.Namespace) -> int:
    rt = runtime()
    current = schema.current_revision(rt.db)
    head = schema.head_revision()
    print(f"{current or 'empty'} (latest: {head})")
    return 0 if current == head else 1

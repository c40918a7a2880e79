"""`gol-workflow backup` and `gol-workflow restore`: a consistent copy of the running service, and its check."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..services.administration import backups
from .common import fail, settings


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `backup` and `restore` commands."""
    create = commands.add_parser("backup", help="copy the running database (attachments included) into FILE")
    create.add_argument("file", type=Path)
    create.set_defaults(handler=_backup)
    restore = commands.add_parser("restore", help="restore FILE into an empty database and check it is whole")
    restore.add_argument("file", type=Path)
    restore.add_argument("--into", required=True, help="database URL to restore into (must be empty)")
    restore.add_argument("--replace", action="store_true", help="overwrite a database that already has tables")
    restore.set_defaults(handler=_restore)


def _backup(args: argparse.Namespace) -> int:
    report = backups.create(settings().database_url, args.file)
    held = report.inventory
    print(f"backup {report.file} ({report.size} bytes): schema {held.revision}, {held.instances} instances, "
          f"{held.timers_pending} with a timer pending, {held.attachments} attachments ({held.attachment_bytes} bytes); "
          f"manifest {report.manifest}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    report = backups.restore(args.file, args.into, args.replace)
    held = report.inventory
    print(f"restored: schema {held.revision}, {held.instances} instances, {held.timers_pending} with a timer pending, "
          f"{held.attachments} attachments ({held.attachment_bytes} bytes)")
    if report.damaged_attachments:
        return fail(f"{len(report.damaged_attachments)} attachment(s) do not match their checksum: "
                    + ", ".join(report.damaged_attachments[:10]))
    if not report.faithful:
        return fail(f"the restored database does not match the backup's manifest: expected {report.expected}")
    print("the copy matches the backup's manifest; run `gol-workflow db upgrade` if the code is newer")
    return 0

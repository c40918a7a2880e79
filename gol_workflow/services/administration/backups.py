"""Backups that restore: a consistent copy of the running service, and a restore that proves it is whole."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from ...domain.errors import GolError
from ...persistence import backup as store
from ...persistence.database import create_db_engine, printable_url


class BackupError(GolError):
    """A backup or restore failed, or the restored copy does not match its original."""

    code = "backup-failed"


@dataclass(frozen=True)
class BackupReport:
    """What was written: the backup file, its manifest, and what the database held."""

    file: Path
    manifest: Path
    size: int
    inventory: store.Inventory


@dataclass(frozen=True)
class RestoreReport:
    """What the restored database holds, checked against the manifest written with the backup."""

    inventory: store.Inventory
    expected: store.Inventory | None
    damaged_attachments: list[str]

    @property
    def faithful(self) -> bool:
        """The copy holds what the original held, and every attachment matches its checksum."""
        return not self.damaged_attachments and (self.expected is None or self.expected == self.inventory)


def manifest_of(file: Path) -> Path:
    """The manifest beside a backup file."""
    return file.with_name(file.name + ".json")


def create(database_url: str, file: Path) -> BackupReport:
    """Back up the database at `database_url` into `file`, with a manifest of what it held."""
    try:
        copy = store.backup(database_url, file)
    except store.BackupFailed as exc:
        raise BackupError(str(exc)) from None
    manifest = manifest_of(file)
    manifest.write_text(json.dumps({
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": printable_url(database_url),
        "dialect": store.dialect_of(database_url),
        "inventory": asdict(copy),
    }, indent=2), encoding="utf-8")
    return BackupReport(file, manifest, file.stat().st_size, copy)


def restore(file: Path, target_url: str, replace: bool = False) -> RestoreReport:
    """Restore `file` into the database at `target_url`, then check it against the backup's manifest."""
    try:
        store.restore(file, target_url, replace)
    except store.BackupFailed as exc:
        raise BackupError(str(exc)) from None
    expected = None
    manifest = manifest_of(file)
    if manifest.is_file():
        recorded = json.loads(manifest.read_text(encoding="utf-8"))["inventory"]
        expected = store.Inventory(**recorded)
    engine = create_db_engine(target_url, pool_size=1)
    try:
        return RestoreReport(store.inventory(engine), expected, store.damaged_attachments(engine))
    finally:
        engine.dispose()

"""Backups that restore: a running service backed up mid-path continues from the copy, timers fire once, no file lost."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from gol_workflow.bootstrap import bootstrap
from gol_workflow.services.administration import backups
from gol_workflow.services.cases import attachments
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.workflow import tasks as task_service
from gol_workflow.services.workflow import timers
from tests.conftest import ADMIN, scratch_database

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + os.urandom(2048)
CLI = str(Path(sys.executable).parent / "gol-workflow")


@pytest.fixture
def empty_target(db_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as the test's, to restore into."""
    with scratch_database(db_url, tmp_path, "ripristino") as url:
        yield url


def _ready(rt, instance_id: str) -> list[dict]:
    with rt.uow(write=False) as uow:
        return [dict(r) for r in uow.inbox_search.for_case(instance_id)]


def test_a_backup_taken_mid_path_restores_and_the_cases_continue(test_processes, db_url, empty_target, clock,
                                                                 tmp_path) -> None:
    rt = test_processes
    waiting = [instance_service.start_instance(rt, "timer_wait", {"zona": "pistoiese"}, ADMIN).instance_id
               for _ in range(3)]
    attached = attachments.upload(rt, waiting[0], "relazione.pdf", PDF, "relazione", ADMIN)

    report = backups.create(db_url, tmp_path / "copie" / "gol.backup")
    assert report.inventory.instances == 3 and report.inventory.timers_pending == 3
    assert report.inventory.attachments == 1 and report.inventory.attachment_bytes == len(PDF)
    assert report.manifest.is_file() and not list((tmp_path / "copie").glob("*.partial"))

    # The original goes on after the backup: its timers fire there, which must not touch the copy.
    clock.advance(timedelta(days=2, seconds=1))
    assert timers.run_due_timers(rt) == 3

    restored = backups.restore(report.file, empty_target)
    assert restored.faithful and restored.inventory == report.inventory and restored.damaged_attachments == []
    copy = bootstrap(rt.settings.with_overrides(database_url=empty_target), clock=clock)
    try:
        assert timers.run_due_timers(copy) == 3  # the copy's timers were still pending: each fires once there
        assert timers.run_due_timers(copy) == 0
        for instance_id in waiting:
            [task] = _ready(copy, instance_id)
            task_service.complete_task(copy, task["id"], {}, ADMIN)
        with copy.uow(write=False) as uow:
            assert {uow.instances.header(i)["status"] for i in waiting} == {"completed"}
        assert attachments.download(copy, waiting[0], attached, ADMIN).content == PDF
    finally:
        copy.db.dispose()


def test_restore_refuses_a_database_in_use_and_the_cli_reports_the_copy(test_processes, db_url, tmp_path) -> None:
    instance_service.start_instance(test_processes, "timer_wait", {"zona": "pistoiese"}, ADMIN)
    file = tmp_path / "gol.backup"
    env = {**os.environ, "GOL_DATABASE_URL": db_url, "GOL_VAR_DIR": str(tmp_path / "var"),
           "GOL_SECRET_KEY": "k" * 40}
    made = subprocess.run([CLI, "backup", str(file)], env=env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    assert "1 instances, 1 with a timer pending, 0 attachments" in made.stdout
    refused = subprocess.run([CLI, "restore", str(file), "--into", db_url], env=env, capture_output=True, text=True,
                             timeout=120)
    assert refused.returncode == 1 and "already holds tables" in refused.stderr
    with pytest.raises(backups.BackupError, match="no backup file"):
        backups.restore(tmp_path / "nessuna.backup", db_url)

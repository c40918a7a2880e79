"""SQLite: commits only append to the WAL; a background thread copies it into the database file."""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from gol_workflow.persistence.checkpoints import BACKSTOP_PAGES, Checkpointer
from gol_workflow.persistence.database import checkpointer_of, create_db_engine


def eventually(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def rows_in_main_file(database: Path, copy: Path) -> int:
    """Rows the database file holds on its own, without its WAL (what a checkpoint has copied)."""
    for leftover in (copy, copy.with_name(copy.name + "-wal"), copy.with_name(copy.name + "-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(database, copy)
    conn = sqlite3.connect(copy)
    try:
        return int(conn.execute("SELECT count(*) FROM notes").fetchone()[0])
    except sqlite3.OperationalError:  # not even the table has been copied yet
        return 0
    finally:
        conn.close()


def test_committed_rows_reach_the_database_file_without_a_commit_checkpointing(tmp_path: Path) -> None:
    database = tmp_path / "gol.sqlite3"
    engine = create_db_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == BACKSTOP_PAGES
    checkpointer = checkpointer_of(engine)
    assert checkpointer is not None
    for n in range(20):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": f"nota {n}" * 50})
    assert eventually(lambda: rows_in_main_file(database, tmp_path / "copy.sqlite3") == 20)
    assert eventually(lambda: checkpointer.checkpoints >= 1)  # counted once the checkpoint call returned
    engine.dispose()


def test_the_thread_ends_when_writes_stop_and_comes_back_with_the_next_write(tmp_path: Path) -> None:
    database = tmp_path / "gol.sqlite3"
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
    checkpointer = Checkpointer(str(database), delay=0.01, idle_exit=0.2)
    checkpointer.nudge()
    assert eventually(lambda: checkpointer.checkpoints == 1)
    assert eventually(lambda: checkpointer._thread is None)
    checkpointer.nudge()
    assert eventually(lambda: checkpointer.checkpoints == 2)


def test_other_databases_have_no_checkpointer() -> None:
    assert checkpointer_of(create_db_engine("sqlite://")) is None


def test_a_database_removed_meanwhile_is_not_recreated(tmp_path: Path) -> None:
    database = tmp_path / "gone.sqlite3"
    checkpointer = Checkpointer(str(database), delay=0.01, idle_exit=0.2)
    checkpointer.checkpoint()
    assert not database.exists() and checkpointer.checkpoints == 0

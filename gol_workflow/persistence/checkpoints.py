"""SQLite: the WAL is copied back into the database by a background thread, not by a user's commit.

SQLite's automatic checkpoint runs inside the commit that crosses its threshold, and a
checkpoint ends with two fsyncs (tens of milliseconds on a virtual disk): one step in
fifty paid for the other forty-nine and the average commit cost five times the median.
SQLite's documentation suggests exactly this arrangement for such applications: commits
only append to the WAL, and a separate thread checkpoints a moment after writes happen.
Durability does not change (commits still reach the WAL as before); a much higher
automatic threshold stays in place as a backstop should this thread fall behind.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

BACKSTOP_PAGES = 10_000  # the automatic checkpoint a commit still runs if the WAL grows this long
DELAY = 0.5  # seconds between a write and the checkpoint: gathers many commits into one checkpoint
IDLE_EXIT = 30.0  # seconds without writes after which the thread ends (the next write starts it again)


class Checkpointer:
    """Checkpoints one SQLite database file shortly after writes, on its own thread and connection."""

    def __init__(self, path: str, delay: float = DELAY, idle_exit: float = IDLE_EXIT) -> None:
        self.path = path
        # Read-write, never create: a database removed meanwhile is not recreated empty.
        self._uri = Path(path).resolve().as_uri() + "?mode=rw"
        self.delay = delay
        self.idle_exit = idle_exit
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.checkpoints = 0  # how many ran (read by tests and diagnostics)

    def nudge(self) -> None:
        """Note that a transaction committed (cheap: called after every commit)."""
        self._wake.set()
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        try:
            while self._wake.wait(self.idle_exit):
                time.sleep(self.delay)
                self._wake.clear()
                self.checkpoint()
        finally:
            with self._lock:
                self._thread = None
            if self._wake.is_set():  # a write arrived while the thread was ending
                self.nudge()

    def checkpoint(self) -> None:
        """Copy what the WAL holds into the database without waiting for readers or writers."""
        try:
            conn = sqlite3.connect(self._uri, uri=True, timeout=1.0)
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                conn.close()
            self.checkpoints += 1
        except sqlite3.Error as exc:  # busy or gone: the next write brings the thread back
            log.debug("checkpoint of %s skipped: %s", self.path, exc)

"""Runs the scheduler's steps one at a time on a worker thread and waits for each at most a time limit."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ...domain.errors import StepTimedOut

if TYPE_CHECKING:
    from .runtime import Runtime

log = logging.getLogger(__name__)

T = TypeVar("T")

# Each late step keeps a thread and a database connection until it ends: past this many still
# running, the next steps are waited for without a limit rather than leave more behind.
MAX_LATE_STEPS = 8
_late: list[threading.Thread] = []
_late_lock = threading.Lock()


def late_steps() -> int:
    """How many abandoned steps are still running in this process."""
    with _late_lock:
        _late[:] = [thread for thread in _late if thread.is_alive()]
        return len(_late)


@dataclass
class _Job:
    run: Callable[[], Any]
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


class _Worker:
    """A daemon thread that runs jobs in order; once abandoned it ends after the job in hand."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name="gol-step", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while (job := self.jobs.get()) is not None:
            try:
                job.result = job.run()
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                job.error = exc
            job.done.set()

    def stop(self) -> None:
        self.jobs.put(None)


class StepRunner:
    """Bounds each step in time: a step still running after `timeout` seconds raises StepTimedOut in the caller.

    Python cannot stop a thread: the late step goes on in its abandoned thread (its writes are
    checked by the instance's row version, so finishing late is harmless) and a fresh thread
    takes the next step. Without a timeout steps run in the caller's thread.
    """

    def __init__(self, timeout: float | None) -> None:
        self.timeout = timeout
        self.abandoned = 0
        self._worker: _Worker | None = None

    def run(self, step: Callable[[], T]) -> T:
        """Run one step and return its result (or raise its error), waiting at most the timeout."""
        if self.timeout is None:
            return step()
        if late_steps() >= MAX_LATE_STEPS:
            log.warning("%d late steps still running: waiting for this one without a time limit", MAX_LATE_STEPS)
            return step()
        worker = self._worker = self._worker or _Worker()
        job = _Job(step)
        worker.jobs.put(job)
        if not job.done.wait(self.timeout):
            self._worker = None
            worker.stop()
            self.abandoned += 1
            with _late_lock:
                _late.append(worker.thread)
            raise StepTimedOut(f"the step did not finish within {self.timeout:g} s")
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[no-any-return]

    def close(self) -> None:
        """Let the worker thread end."""
        if self._worker is not None:
            self._worker.stop()
            self._worker = None


def step_runner(rt: Runtime) -> StepRunner:
    """The scheduler's runner: bounded by `scheduler_step_timeout`; inline on SQLite.

    SQLite has one writer: a step that hangs holds its write lock, so nothing else could be
    written while it runs and there is nothing to gain by going on without it.
    """
    timeout = None if rt.db.dialect.name == "sqlite" else rt.settings.scheduler_step_timeout
    return StepRunner(timeout)

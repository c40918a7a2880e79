"""Work queued batches off in a background thread of this web process, as soon as one is created.

The scheduler also works batches off (and resumes them after a restart); both take a job's
lease before touching it, so they never run the same item twice at the same time.
"""

from __future__ import annotations

import logging
import threading

from ...services.administration import batch
from ...services.workflow.runtime import Runtime

log = logging.getLogger(__name__)
_WORKER = "gol_batch_worker"
_lock = threading.Lock()


def kick(rt: Runtime) -> None:
    """Start the worker thread unless one is already running for this runtime."""
    with _lock:
        running = rt.extras.get(_WORKER)
        if running is not None and running.is_alive():
            return
        thread = threading.Thread(target=_drain, args=(rt,), name="gol-batch-worker", daemon=True)
        rt.extras[_WORKER] = thread
        thread.start()


def _drain(rt: Runtime) -> None:
    try:
        while batch.run_batches(rt, budget=batch.DEFAULT_BUDGET):
            pass
    except Exception:  # noqa: BLE001 - the scheduler picks the job up again
        log.exception("batch worker stopped")

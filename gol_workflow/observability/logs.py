"""Logging: one JSON object per line with the request id and the actor, or plain text locally."""

from __future__ import annotations

import contextvars
import logging
import sys
from typing import Any

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("gol_request_id", default=None)
actor: contextvars.ContextVar[str | None] = contextvars.ContextVar("gol_actor", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"


class _Context(logging.Filter):
    """Adds the request id and the acting username (never case data) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get() or "-"
        if not hasattr(record, "actor"):
            record.actor = actor.get()
        return True


def configure(log_format: str, level: int = logging.INFO) -> None:
    """Send the service's log records to standard error in the chosen format (json or text)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_Context())
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(JsonFormatter(
            JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False, json_default=str))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_gol", False):
            root.removeHandler(existing)
    handler._gol = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped: already running" is by design
    logging.getLogger("spiff").setLevel(logging.WARNING)


def event(logger: logging.Logger, message: str, **fields: Any) -> None:
    """Log one event with structured fields (they become JSON members)."""
    logger.info(message, extra=fields)

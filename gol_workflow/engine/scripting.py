"""The script engine: sandboxed code, date helpers, service tasks and the service clock."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.exceptions import SpiffWorkflowException

from .sandbox import ScriptLimitExceeded, ScriptLimits, ScriptRefused, SandboxEnvironment, ScriptSyntaxError

ServiceHandler = Callable[[str, dict[str, Any], dict[str, Any]], Any]
"""(operation name, evaluated parameters, task data) -> JSON-serialisable result."""

_now: ContextVar[datetime | None] = ContextVar("gol_engine_now", default=None)
_service_handler: ContextVar[ServiceHandler | None] = ContextVar("gol_service_handler", default=None)


class ServiceUnavailable(Exception):
    """No handler for a service task operator in this context."""


def current_now() -> datetime:
    """The instant the current use case runs at (real time outside one)."""
    value = _now.get()
    return value if value is not None else datetime.now(UTC)


class _ClockedDatetime(datetime):
    """`datetime` whose now() answers from the service clock; patched into Spiff's timer module."""

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        value = _now.get()
        if value is None:
            return datetime.now(tz)
        return value.astimezone(tz) if tz is not None else value.astimezone().replace(tzinfo=None)


def install_clock_hook() -> None:
    """Route SpiffWorkflow's timer module through the service clock (idempotent)."""
    spiff_timer.datetime = _ClockedDatetime  # type: ignore[misc]


@contextlib.contextmanager
def engine_context(now: datetime, services: ServiceHandler | None = None) -> Iterator[None]:
    """Run engine code as of `now`, with `services` answering service tasks."""
    now_token = _now.set(now)
    svc_token = _service_handler.set(services)
    try:
        yield
    finally:
        _now.reset(now_token)
        _service_handler.reset(svc_token)


def make_helpers(timezone: str) -> dict[str, Any]:
    """Functions and types scripts and expressions may use."""
    zone = ZoneInfo(timezone)

    def _parse(value: str | datetime | date) -> datetime:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time(0, 0))
        else:
            moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)

    def add_months(value: str | datetime | date, months: int) -> str:
        """Calendar months later, same local time in the service time zone."""
        local = _parse(value).astimezone(zone)
        shifted = (local.replace(tzinfo=None) + relativedelta(months=int(months))).replace(tzinfo=zone)
        return shifted.isoformat()

    def add_days(value: str | datetime | date, days: int) -> str:
        """Calendar days later, same local time in the service time zone."""
        local = _parse(value).astimezone(zone)
        shifted = (local.replace(tzinfo=None) + timedelta(days=int(days))).replace(tzinfo=zone)
        return shifted.isoformat()

    def at_local_time(day: str | date, hhmm: str = "00:00") -> str:
        """ISO datetime of a local date and time in the service time zone."""
        if isinstance(day, str):
            day = date.fromisoformat(day[:10])
        hour, minute = (int(part) for part in hhmm.split(":", 1))
        return datetime.combine(day, time(hour, minute), tzinfo=zone).isoformat()

    def now_iso() -> str:
        """The current instant, in the service time zone."""
        return current_now().astimezone(zone).isoformat()

    def today() -> str:
        """Today's date in the service time zone (YYYY-MM-DD)."""
        return current_now().astimezone(zone).date().isoformat()

    return {
        "datetime": _ClockedDatetime,  # datetime.now() is the service clock's (simulated in training and tests)
        "date": date,
        "timedelta": timedelta,
        "add_months": add_months,
        "add_days": add_days,
        "at_local_time": at_local_time,
        "now_iso": now_iso,
        "today": today,
    }


class GolScriptEngine(PythonScriptEngine):
    """Spiff's script engine on the sandbox, with service tasks routed to the service layer."""

    def __init__(
        self, timezone: str = "Europe/Rome", time_limit: float = 2.0, limits: ScriptLimits | None = None
    ) -> None:
        limits = limits if limits is not None else ScriptLimits(time=time_limit)
        super().__init__(environment=SandboxEnvironment(make_helpers(timezone), limits=limits))

    def validate(self, expression: str) -> None:
        """Check that an expression compiles in the sandbox."""
        from .sandbox import compile_expression

        compile_expression(expression)

    def evaluate(self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        """Evaluate a condition or expression; a stopped evaluation says why, on its element."""
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except (ScriptLimitExceeded, ScriptRefused) as err:
            shown = " ".join(expression.split())
            shown = shown if len(shown) <= 80 else f"{shown[:77]}..."
            raise WorkflowTaskException(f"{err} (expression '{shown}')", task=task, exception=err) from err
        except SpiffWorkflowException as err:
            err.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as err:  # noqa: BLE001 - as SpiffWorkflow reports any other failure
            raise WorkflowTaskException(f"Error evaluating expression '{expression}'", task=task, exception=err) from err

    def execute(self, task: Any, script: str, external_context: Mapping[str, Any] | None = None) -> Any:
        """Run a script task / pre-script / post-script, reporting the failing line."""
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except SpiffWorkflowException:
            raise
        except Exception as err:  # noqa: BLE001 - every script failure becomes a task error
            line, text = _error_line(script, err)
            # A stopped script says in plain words what happened; other errors keep their type.
            plain = isinstance(err, (ScriptLimitExceeded, ScriptRefused))
            detail = str(err) if plain else f"{err.__class__.__name__}: {err}"
            raise WorkflowTaskException(detail, task=task, exception=err, line_number=line, error_line=text) from err

    def call_service(self, task: Any, **kwargs: Any) -> str:
        """Route a service task to the handler of the running use case."""
        handler = _service_handler.get()
        operation = kwargs.get("operation_name", "")
        params = {name: spec.get("value") for name, spec in (kwargs.get("operation_params") or {}).items()}
        try:
            if handler is None:
                raise ServiceUnavailable(f"no service can run operator {operation!r} here")
            return json.dumps(handler(operation, params, task.data), default=str)
        except SpiffWorkflowException:
            raise
        except Exception as err:  # noqa: BLE001 - connector failures become task errors
            raise WorkflowTaskException(f"{err.__class__.__name__}: {err}", task=task, exception=err) from err


def _error_line(script: str, err: BaseException) -> tuple[int, str]:
    lines = script.splitlines()
    line = 0
    if isinstance(err, (SyntaxError, ScriptSyntaxError)):
        line = err.lineno or 0
    else:
        tb = err.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == "<bpmn-script>":
                line = tb.tb_lineno
            tb = tb.tb_next
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return line, text

"""The simulated clock (training and tests): time kept in the database, moved forward due moment by due moment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ...domain.durations import parse_duration
from ...domain.errors import ClockNotSimulated, ValidationFailed
from ...domain.model import Actor
from ...persistence.database import Database
from ...persistence.uow import UnitOfWork
from ..access import authorization
from .due_work import DueReport, heads, run_due_work
from .runtime import Runtime

STEP = timedelta(microseconds=1)  # timers fire when due < now: stop just after each due instant
MAX_STEPS = 50_000
NOT_SIMULATED = (
    "the clock can only be moved in simulation mode: this service runs on real time "
    "(start it with GOL_CLOCK=simulated for training or tests)"
)


class DatabaseClock:
    """Reads the simulated time from the database; starts at the real time when unset."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def now(self) -> datetime:
        """The stored simulated instant."""
        with UnitOfWork(self._db, write=False) as uow:
            value = uow.system.simulated_now()
        return value or datetime.now(UTC).replace(microsecond=0)

    def set(self, moment: datetime) -> None:
        """Store a new simulated instant."""
        if moment.tzinfo is None:
            raise ValueError("aware datetime required")
        with UnitOfWork(self._db) as uow:
            uow.system.set_simulated_now(moment.astimezone(UTC))
            uow.commit()


@dataclass
class ClockMove:
    """What moving the clock did."""

    start: datetime
    end: datetime
    steps: int = 0
    backwards: bool = False
    report: DueReport = field(default_factory=DueReport)


def is_simulated(rt: Runtime) -> bool:
    """True when this service's clock can be moved."""
    return callable(getattr(rt.clock, "set", None))


def require_simulated(rt: Runtime) -> None:
    """Refuse, with the reason, unless the clock can be moved."""
    _setter(rt)


def _setter(rt: Runtime) -> Callable[[datetime], None]:
    setter = getattr(rt.clock, "set", None)
    if not callable(setter):
        raise ClockNotSimulated(NOT_SIMULATED)
    return setter  # type: ignore[no-any-return]


def parse_moment(rt: Runtime, text: str) -> datetime:
    """An ISO date-time; without an offset it is local time in the service time zone."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        message = f"{text!r} is not an ISO 8601 date-time such as 2026-03-02T09:00 or 2026-03-02T09:00+01:00"
        raise ValidationFailed(message, {"moment": [message]}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(rt.settings.timezone))


def advance_clock(rt: Runtime, duration: str, actor: Actor) -> ClockMove:
    """Move the clock forward by an ISO 8601 duration, firing every timer and cut-off passed, in order."""
    authorization.require_admin(actor)
    _setter(rt)
    try:
        length = parse_duration(duration)
    except ValueError as exc:
        raise ValidationFailed(str(exc), {"duration": [str(exc)]}) from None
    start = rt.now()
    return step_to(rt, length.after(start, rt.settings.timezone), actor)


def set_clock(rt: Runtime, moment: datetime, actor: Actor) -> ClockMove:
    """Set the clock: forward moves fire what they pass, as `advance` does; backward moves fire nothing."""
    authorization.require_admin(actor)
    setter = _setter(rt)
    start = rt.now()
    if moment >= start:
        return step_to(rt, moment, actor)
    setter(moment)
    _audit(rt, actor, start, moment)
    return ClockMove(start, moment.astimezone(UTC), backwards=True)


def step_to(rt: Runtime, target: datetime, actor: Actor) -> ClockMove:
    """Walk the clock to `target`, stopping at each due timer and meeting cut-off to run it at its moment."""
    setter = _setter(rt)
    moment = rt.now()
    move = ClockMove(moment, target.astimezone(UTC))
    move.report.add(run_due_work(rt, moment, actor))
    stuck = 0
    while move.steps < MAX_STEPS:
        head = heads(rt).process_work
        if head is None or head > target:  # what falls due at the target itself fires too
            break
        following = max(head + STEP, moment)
        stuck = stuck + 1 if following == moment else 0
        if stuck > 2:  # what is due is held by another scheduler: it will run it
            break
        setter(following)
        moment = following
        move.steps += 1
        move.report.add(run_due_work(rt, moment, actor))
    final = max(target, moment)
    setter(final)
    move.report.add(run_due_work(rt, final, actor))
    move.end = final.astimezone(UTC)
    _audit(rt, actor, move.start, final)
    return move


def _audit(rt: Runtime, actor: Actor, start: datetime, end: datetime) -> None:
    with rt.uow() as uow:
        uow.audit.record(end, actor.username, "clock.moved", None,
                         data={"from": start.isoformat(), "to": end.astimezone(UTC).isoformat()})
        uow.commit()

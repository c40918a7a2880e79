"""Running analysts' scenario files in-process against the real use cases, on a temporary SQLite database."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from ...clock import Clock, ManualClock
from ...config import Settings, SmtpSettings
from ...domain.errors import GolError
from ...domain.model import Actor
from ...persistence import schema
from ...persistence.database import create_db_engine
from ..administration import deployment
from ..access import users
from ..workflow.runtime import Runtime
from .files import Account, Scenario, Step, scenario_accounts
from .steps import RUNNER, CaseRun, Diverged, Recorder, moment

DEFAULT_START = "2026-01-05T08:00:00+01:00"  # a Monday: the first meetings of both zones are ahead



@dataclass
class Failure:
    """Where a scenario diverged: the step, what was expected, and the path the case actually took."""

    where: str
    step: str
    message: str
    expected: str
    actual_path: list[str]

    def text(self) -> str:
        """The failure as printed for the analyst."""
        return (f"  at {self.where}: step '{self.step}'\n  {self.message}\n  expected: {self.expected}\n"
                f"  actual path: {' -> '.join(self.actual_path) or '(nothing ran)'}")


@dataclass
class ScenarioResult:
    """One scenario's outcome and the elements and flows its instances went through."""

    name: str
    path: Path
    seconds: float
    failure: Failure | None = None
    nodes: dict[str, set[str]] = field(default_factory=dict)  # process id -> element ids reached
    flows: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # process id -> (source, target)

    @property
    def passed(self) -> bool:
        """True when every step went as written."""
        return self.failure is None


@dataclass(frozen=True)
class Workspace:
    """Where scenarios run: the process, form and zone folders and a migrated template database."""

    processes: Path
    forms: Path
    zones: Path
    folder: Path
    template: Path
    build: Callable[[Settings, Clock], Runtime]  # wires a runtime as the service does (bootstrap)


@contextmanager
def workspace(build: Callable[[Settings, Clock], Runtime], processes: Path, forms: Path | None = None,
              zones: Path | None = None) -> Iterator[Workspace]:
    """A temporary folder with a migrated SQLite database every scenario starts from (removed afterwards)."""
    folder = Path(tempfile.mkdtemp(prefix="gol-scenarios-"))
    try:
        template = folder / "template.sqlite3"
        engine = create_db_engine(f"sqlite:///{template}")
        schema.upgrade(engine)
        engine.dispose()
        yield Workspace(processes, forms or processes.parent / "forms", zones or processes.parent / "zones",
                        folder, template, build)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_scenario(space: Workspace, scenario: Scenario, sources: deployment.Sources | None = None) -> ScenarioResult:
    """Run one scenario on a fresh copy of the template database."""
    started = time.perf_counter()
    slot = space.folder / f"run-{time.monotonic_ns()}"
    slot.mkdir()
    shutil.copy(space.template, slot / "gol.sqlite3")
    settings = Settings(
        database_url=f"sqlite:///{slot / 'gol.sqlite3'}", processes_dir=space.processes, forms_dir=space.forms,
        zones_dir=space.zones, var_dir=slot / "var", secret_key="scenario-runs",
        # Nobody listens there: e-mail stays in the outbox, where scenarios look for it.
        smtp=SmtpSettings(host="127.0.0.1", port=9, timeout=1.0), scheduler_step_timeout=30.0,
    )
    zone = ZoneInfo(settings.timezone)
    result = ScenarioResult(scenario.name, scenario.path, 0.0)
    quiet = logging.getLogger("gol_workflow.services.mail.outbox")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # e-mail is never sent here: its retries and expiry are not news
    rt = space.build(settings, ManualClock(moment(scenario.start_at or DEFAULT_START, zone)))
    recorder = Recorder()
    recorder.install(rt)
    run = CaseRun(rt, scenario, recorder)
    current: Step | None = None
    try:
        deployment.deploy(rt, sources or deployment.read_sources(space.processes, space.forms), RUNNER)
        run.actors = _accounts(rt, scenario_accounts(scenario.path.parent))
        try:
            run.start()
        except (Diverged, GolError) as exc:
            raise Diverged(str(exc), f"a {scenario.process} case started") from None
        for step in scenario.steps:
            current = step
            try:
                run.run(step)
            except Diverged:
                raise
            except GolError as exc:
                raise Diverged(f"{type(exc).__name__}: {exc}", f"{step.describe()} accepted") from None
            except Exception as exc:  # noqa: BLE001 - any failure of a step is that scenario's failure, not the run's
                raise Diverged(f"the step could not run: {type(exc).__name__}: {exc}", step.describe()) from None
    except Diverged as exc:
        line = current.line if current else 1
        described = current.describe() if current else f"start as {scenario.start_as}"
        result.failure = Failure(scenario.where(line), described, str(exc), exc.expected, _safe_path(run))
    finally:
        result.nodes, result.flows = _taken(recorder, space.processes)
        rt.db.dispose()
        quiet.setLevel(level)
        shutil.rmtree(slot, ignore_errors=True)
    result.seconds = time.perf_counter() - started
    return result


def _safe_path(run: CaseRun) -> list[str]:
    """The case's path, or what can be said when the case itself cannot be read."""
    try:
        return run.path()
    except Exception as exc:  # noqa: BLE001 - the failure report must still be printed
        return [f"(the case could not be read: {type(exc).__name__}: {exc})"]


def _accounts(rt: Runtime, accounts: list[Account]) -> dict[str, Actor]:
    """The operators declared beside the scenarios; no password (nobody logs in here)."""
    found: dict[str, Actor] = {}
    with rt.uow() as uow:
        for account in accounts:
            uow.users.add({"username": account.username, "full_name": account.name, "password_hash": "!",
                           "role": account.role, "zones": list(account.zones), "services": list(account.services),
                           "active": True,
                           "failed_logins": 0, "created_at": rt.now()})
        uow.commit()
    for account in accounts:
        username = account.username
        user = users.find_user(rt, username)
        if user is not None:
            found[username] = user.actor()
    return found


def _taken(recorder: Recorder, processes: Path) -> tuple[dict[str, set[str]], dict[str, set[tuple[str, str]]]]:
    nodes: dict[str, set[str]] = {}
    flows: dict[str, set[tuple[str, str]]] = {}
    for key, seen in recorder.passages.items():
        process = recorder.processes[key]
        for passage in seen.values():
            nodes.setdefault(process, set()).add(passage.element_id)
            if passage.came_from:
                flows.setdefault(process, set()).add((passage.came_from, passage.element_id))
    return nodes, flows

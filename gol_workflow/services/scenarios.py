"""Running analysts' scenario files in-process against the real use cases, on a temporary SQLite database."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..clock import Clock, ManualClock
from ..config import Settings, SmtpSettings
from ..domain.durations import parse_duration
from ..domain.errors import GolError, ValidationFailed
from ..domain.model import Actor
from ..engine import scenario_paths
from ..engine.inspection import current_data
from ..persistence import schema
from ..persistence.database import create_db_engine
from . import case_start, deployment, messages, monitoring, task_view, users
from . import clock as clock_service
from . import instances as instance_service
from . import tasks as task_service
from .form_options import allowed_values
from .runtime import Runtime
from .scenario_files import Scenario, Step

RUNNER = Actor(username="scenario", role="admin")
DEFAULT_START = "2026-01-05T08:00:00+01:00"  # a Monday: the first meetings of both zones are ahead

# (username, role, zones, full name): the operators every scenario can act as.
ACCOUNTS = (
    ("cpi.pistoia", "cpi", ["pistoiese"], "Carla Pieri"),
    ("cpi.pescia", "cpi", ["valdinievole"], "Paolo Cecchi"),
    ("sds.pistoia", "sds", ["pistoiese"], "Sara Desideri"),
    ("sds.pescia", "sds", ["valdinievole"], "Silvia Nesti"),
    ("cm.rossi", "ats", ["pistoiese"], "Anna Rossi"),
    ("cm.bianchi", "ats", ["pistoiese", "valdinievole"], "Luca Bianchi"),
    ("cm.verdi", "ats", ["valdinievole"], "Marta Verdi"),
)


class Diverged(Exception):
    """A scenario step whose outcome is not what the scenario says."""

    def __init__(self, message: str, expected: str) -> None:
        super().__init__(message)
        self.expected = expected


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


class _Recorder:
    """Keeps what every stored workflow state went through, keyed by workflow."""

    def __init__(self) -> None:
        self.passages: dict[str, dict[str, scenario_paths.Passage]] = {}
        self.processes: dict[str, str] = {}

    def install(self, rt: Runtime) -> None:
        serializer = rt.engine.serializer
        plain: Callable[[Any], str] = serializer.dumps

        def dumps(workflow: Any) -> str:
            key = scenario_paths.workflow_key(workflow)
            self.processes[key] = scenario_paths.process_of(workflow)
            seen = self.passages.setdefault(key, {})
            for passage in scenario_paths.passages(workflow):
                seen[passage.task_id] = passage
            return plain(workflow)

        serializer.dumps = dumps  # type: ignore[method-assign]

    def ordered(self, key: str) -> list[scenario_paths.Passage]:
        return sorted(self.passages.get(key, {}).values(), key=lambda p: (not p.completed, p.changed_at))


class _Run:
    """One scenario on its own database."""

    def __init__(self, rt: Runtime, scenario: Scenario, recorder: _Recorder) -> None:
        self.rt = rt
        self.scenario = scenario
        self.recorder = recorder
        self.zone = ZoneInfo(rt.settings.timezone)
        self.actors: dict[str, Actor] = {}
        self.case_id = ""
        self.case_key: str | None = None

    # -- who acts -----------------------------------------------------------------------------

    def actor(self, who: str) -> Actor:
        if who in self.actors:
            return self.actors[who]
        zone = str(self.scenario.start_data.get("zona", ""))
        same_role = [a for a in self.actors.values() if a.role == who]
        for candidate in same_role:
            if zone in candidate.zones:
                return candidate
        if same_role:
            return same_role[0]
        raise Diverged(f"nobody is '{who}'", f"a username ({', '.join(self.actors)}) or a role (cpi, sds, ats)")

    # -- reading ------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.rt.now().astimezone(self.zone)

    def data(self) -> dict[str, Any]:
        self.rt.workflows.clear()
        with self.rt.uow(write=False) as uow:
            return instance_service.read_workflow(self.rt, uow, self.case_id, lambda loaded: current_data(loaded.handle))

    def header(self) -> dict[str, Any]:
        with self.rt.uow(write=False) as uow:
            row = uow.instances.header(self.case_id)
        return dict(row) if row else {}

    def meetings(self) -> list[dict[str, Any]]:
        with self.rt.uow(write=False) as uow:
            rows = [dict(r) for r in uow.meetings.meetings_of_case(self.case_id)]
            for row in rows:
                row["items"] = {i["case_id"]: dict(i) for i in uow.meetings.agenda(row["id"])}
        return sorted(rows, key=lambda r: r["scheduled_at"])

    def open_tasks(self) -> list[dict[str, Any]]:
        """Open tasks about the case: its own and its schede at the equipe."""
        with self.rt.uow(write=False) as uow:
            found = [dict(r) for r in uow.inbox.for_instance(self.case_id)] if self.case_id else []
            for meeting in uow.meetings.meetings_of_case(self.case_id) if self.case_id else []:
                if meeting["instance_id"]:
                    found += [dict(r) for r in uow.inbox.for_instance(meeting["instance_id"])
                              if r["case_id"] == self.case_id]
        return found

    def all_passages(self) -> list[scenario_paths.Passage]:
        return [p for key in self.recorder.passages for p in self.recorder.ordered(key)]

    def path(self) -> list[str]:
        """The case's elements, done ones in order, then what is open or waiting (marked)."""
        key = self.case_key or self._case_key()
        if key is None:
            return []
        return [p.element_name if p.completed else f"[{p.element_name}]" for p in self.recorder.ordered(key)]

    def _case_key(self) -> str | None:
        if not self.case_id:
            return None
        self.rt.workflows.clear()
        with self.rt.uow(write=False) as uow:
            self.case_key = instance_service.read_workflow(
                self.rt, uow, self.case_id, lambda loaded: scenario_paths.workflow_key(loaded.handle.workflow))
        return self.case_key

    # -- values -------------------------------------------------------------------------------

    def resolve(self, value: Any, options: Mapping[str, list[str]] | None = None) -> Any:
        """Answers with placeholders: $case_id, $today, $now, $option:SOURCE[:N], $data:PATH."""
        if isinstance(value, dict):
            return {k: self.resolve(v, options) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, options) for v in value]
        if not isinstance(value, str) or not value.startswith("$"):
            return value
        if value == "$case_id":
            return self.case_id
        if value == "$today":
            return self.now().date().isoformat()
        if value == "$now":
            return self.now().isoformat(timespec="seconds")
        if value.startswith("$option:"):
            parts = value.split(":")
            source, index = parts[1], int(parts[2]) if len(parts) > 2 else 0
            choices = (options or {}).get(source, [])
            if len(choices) <= index:
                raise Diverged(f"the form offers {len(choices)} choice(s) for {source}", f"choice {index} of {source}")
            return choices[index]
        if value.startswith("$data:"):
            return _at_path(self.data(), value[len("$data:"):])
        return value

    # -- steps --------------------------------------------------------------------------------

    def start(self) -> None:
        actor = self.actor(self.scenario.start_as)
        self.case_id = case_start.open_case(self.rt, self.scenario.process, self.resolve(self.scenario.start_data),
                                            actor)

    def run(self, step: Step) -> None:
        getattr(self, f"_{step.kind}")(step.values)
        self.rt.workflows.clear()

    def _complete(self, values: dict[str, Any]) -> None:
        wanted = values["complete"]
        open_now = self.open_tasks()
        found = [t for t in open_now if wanted in (t["element_id"], t["name"])]
        if not found:
            names = ", ".join(f"{t['element_id']} ({t['name']})" for t in open_now) or "none"
            raise Diverged(f"task '{wanted}' is not open for this case; open tasks: {names}", f"'{wanted}' open")
        actor = self.actor(values["as"])
        view = task_view.open_task(self.rt, found[0]["id"], actor)
        options = allowed_values(view.options)
        answers = self.resolve(dict(values.get("answers") or {}), options)
        try:
            task_service.complete_task(self.rt, found[0]["id"], answers, actor, options=options)
        except ValidationFailed as exc:
            raise Diverged(f"the form refused the answers: {exc.errors}", f"'{wanted}' completed") from None

    def _advance(self, values: dict[str, Any]) -> None:
        target = parse_duration(str(values["advance"])).after(self.rt.now(), self.rt.settings.timezone)
        clock_service.step_to(self.rt, target, RUNNER)

    def _advance_to(self, values: dict[str, Any]) -> None:
        spec = values["advance_to"]
        plus = timedelta(minutes=1)
        if isinstance(spec, str) and spec in ("meeting", "due"):
            spec = {spec: True}
        if isinstance(spec, dict):
            if "plus" in spec:
                origin = self.now()
                plus = parse_duration(str(spec["plus"])).after(origin, self.rt.settings.timezone) - origin
            if "meeting" in spec:
                meetings = [m for m in self.meetings() if m["status"] in ("planned", "convened")]
                if not meetings:
                    raise Diverged("the case is on no meeting's agenda", "a meeting to wait for")
                base = meetings[-1]["scheduled_at"]
            elif "due" in spec:
                base = self.header().get("next_due_at")
                if base is None:
                    raise Diverged("the case waits for no timer", "a timer falling due")
            else:
                raw = _at_path(self.data(), str(spec["data"]))
                base = _moment(str(raw), self.zone)
            target = base + plus
        else:
            target = _moment(spec, self.zone)
        if target < self.rt.now():
            raise Diverged(f"{target.isoformat()} is in the past (now {self.now().isoformat()})", "a later moment")
        clock_service.step_to(self.rt, target, RUNNER)

    def _message(self, values: dict[str, Any]) -> None:
        correlation = self.resolve(values.get("correlation") or {"case_id": self.case_id})
        messages.send_message(self.rt, values["message"], correlation, self.resolve(values.get("payload") or {}),
                              self.actor(values.get("as", "scenario")) if "as" in values else RUNNER)

    def _request_monitoring(self, values: dict[str, Any]) -> None:
        monitoring.request_monitoring(self.rt, self.case_id, str(values["request_monitoring"]),
                                      self.actor(values["as"]))

    def _expect(self, values: dict[str, Any]) -> None:
        expect = values["expect"]
        passages = self.all_passages()
        reached = {p.element_id for p in passages} | {p.element_name for p in passages}
        if "path" in expect:
            self._expect_path(list(expect["path"]))
        for element in expect.get("reached", []):
            if element not in reached:
                raise Diverged(f"'{element}' was not reached", f"reached: {', '.join(expect['reached'])}")
        for element in expect.get("not_reached", []):
            if element in reached:
                raise Diverged(f"'{element}' was reached", f"not reached: {', '.join(expect['not_reached'])}")
        if "open_tasks" in expect:
            open_now = self.open_tasks()
            wanted = sorted(expect["open_tasks"])
            matched = sorted(w for w in wanted if any(w in (t["element_id"], t["name"]) for t in open_now))
            if matched != wanted or len(open_now) != len(wanted):
                actual = sorted(t["element_id"] for t in open_now)
                raise Diverged(f"open tasks are {actual or 'none'}", f"open tasks: {wanted or 'none'}")
        if "state" in expect:
            status = self.header().get("status")
            if status != expect["state"]:
                raise Diverged(f"the instance is {status}", f"state: {expect['state']}")
        if "data" in expect:
            data = self.data()
            for path, value in expect["data"].items():
                actual = _at_path(data, str(path), missing=_MISSING)
                wanted_value = self.resolve(value)
                if actual != wanted_value:
                    shown = "missing" if actual is _MISSING else repr(actual)
                    raise Diverged(f"data {path} is {shown}", f"data {path} = {wanted_value!r}")
        if "outbox" in expect:
            self._expect_outbox(expect["outbox"])
        if "agenda" in expect:
            self._expect_agenda(expect["agenda"])

    def _expect_path(self, wanted: list[str]) -> None:
        """The case went through these elements (ids or names) in this order, others possibly between."""
        key = self.case_key or self._case_key()
        done = [p for p in self.recorder.ordered(key) if p.completed] if key else []
        position = 0
        for element in wanted:
            while position < len(done) and element not in (done[position].element_id, done[position].element_name):
                position += 1
            if position == len(done):
                raise Diverged(f"the case did not go through '{element}' after the elements before it",
                               f"path {' -> '.join(wanted)}")
            position += 1

    def _expect_outbox(self, wanted: list[dict[str, Any]]) -> None:
        with self.rt.uow(write=False) as uow:
            rows = [dict(r) for r in uow.outbox.listing(None, 10_000)]
        for item in wanted:
            subject = str(item.get("subject_contains", "")).casefold()
            recipient = str(item.get("recipient_contains", "")).casefold()
            matching = [r for r in rows if subject in r["subject"].casefold()
                        and any(recipient in str(to).casefold() for to in (r["recipients"] or []))]
            count = item.get("count")
            if (count is None and not matching) or (count is not None and len(matching) != int(count)):
                subjects = sorted({r["subject"] for r in rows})
                raise Diverged(f"{len(matching)} e-mail(s) match; subjects in the outbox: {subjects}",
                               f"outbox: {dict(item)}")

    def _expect_agenda(self, wanted: dict[str, Any]) -> None:
        meetings = self.meetings()
        if "count" in wanted and len(meetings) != int(wanted["count"]):
            raise Diverged(f"the case was put on {len(meetings)} meeting(s)", f"agenda count {wanted['count']}")
        if not meetings:
            raise Diverged("the case is on no meeting's agenda", f"agenda: {dict(wanted)}")
        last = meetings[-1]
        actual = {"meeting_date": last["scheduled_at"].astimezone(self.zone).date().isoformat(),
                  "zone": last["zone"], "reason": last["items"].get(self.case_id, {}).get("reason")}
        for key in ("meeting_date", "zone", "reason"):
            if key in wanted and str(wanted[key]) != str(actual[key]):
                raise Diverged(f"the case's latest meeting is {actual}", f"agenda: {dict(wanted)}")


_MISSING = object()


def _at_path(data: Any, path: str, missing: Any = None) -> Any:
    """The value at a dotted path (list items by index): a.b.0.c."""
    value = data
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            if missing is not None:
                return missing
            raise Diverged(f"the data has no {path}", f"a value at {path}")
    return value


def _moment(text: str, zone: ZoneInfo) -> datetime:
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), zone)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Diverged(f"{text!r} is not an ISO date-time", "a date-time such as 2026-03-02T09:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


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
    quiet = logging.getLogger("gol_workflow.services.outbox")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # e-mail is never sent here: its retries and expiry are not news
    rt = space.build(settings, ManualClock(_moment(scenario.start_at or DEFAULT_START, zone)))
    recorder = _Recorder()
    recorder.install(rt)
    run = _Run(rt, scenario, recorder)
    current: Step | None = None
    try:
        deployment.deploy(rt, sources or deployment.read_sources(space.processes, space.forms), RUNNER)
        run.actors = _accounts(rt)
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


def _safe_path(run: _Run) -> list[str]:
    """The case's path, or what can be said when the case itself cannot be read."""
    try:
        return run.path()
    except Exception as exc:  # noqa: BLE001 - the failure report must still be printed
        return [f"(the case could not be read: {type(exc).__name__}: {exc})"]


def _accounts(rt: Runtime) -> dict[str, Actor]:
    """The operators of both zones; no password (nobody logs in here)."""
    found: dict[str, Actor] = {}
    with rt.uow() as uow:
        for username, role, zones, name in ACCOUNTS:
            uow.users.add({"username": username, "full_name": name, "password_hash": "!", "role": role,
                           "zones": zones, "services": [], "active": True, "failed_logins": 0,
                           "created_at": rt.now()})
        uow.commit()
    for username, *_ in ACCOUNTS:
        user = users.find_user(rt, username)
        if user is not None:
            found[username] = user.actor()
    return found


def _taken(recorder: _Recorder, processes: Path) -> tuple[dict[str, set[str]], dict[str, set[tuple[str, str]]]]:
    nodes: dict[str, set[str]] = {}
    flows: dict[str, set[tuple[str, str]]] = {}
    for key, seen in recorder.passages.items():
        process = recorder.processes[key]
        for passage in seen.values():
            nodes.setdefault(process, set()).add(passage.element_id)
            if passage.came_from:
                flows.setdefault(process, set()).add((passage.came_from, passage.element_id))
    return nodes, flows

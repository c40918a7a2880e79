"""The steps and checks of one scenario, each through the use case the service runs for it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ...domain.durations import parse_duration
from ...domain.errors import ValidationFailed
from ...domain.model import Actor
from ..access.roles import SYSTEM as SYSTEM_ROLE
from ...engine import scenario_paths
from ...engine.inspection import current_data
from ..access import authorization
from ..cases import case_start, monitoring
from ..integrations import messages
from ..workflow import task_view
from ..workflow import clock as clock_service
from ..workflow import instances as instance_service
from ..workflow import tasks as task_service
from ..workflow.form_options import allowed_values
from ..workflow.runtime import Runtime
from .files import Scenario, Step

RUNNER = Actor(username="scenario", role=SYSTEM_ROLE)  # acts as the service itself


class Diverged(Exception):
    """A scenario step whose outcome is not what the scenario says."""

    def __init__(self, message: str, expected: str) -> None:
        super().__init__(message)
        self.expected = expected


class Recorder:
    """Keeps what every stored workflow state went through, keyed by workflow."""

    def __init__(self) -> None:
        self.passages: dict[str, dict[str, scenario_paths.Passage]] = {}
        self.processes: dict[str, str] = {}

    def install(self, rt: Runtime) -> None:
        """Watch every state the runtime stores."""
        serializer = rt.engine.serializer
        plain: Callable[[Any], str] = serializer.dumps

        def dumps(workflow: Any) -> str:
            """Record what the workflow went through, then serialise it as usual."""
            key = scenario_paths.workflow_key(workflow)
            self.processes[key] = scenario_paths.process_of(workflow)
            seen = self.passages.setdefault(key, {})
            for passage in scenario_paths.passages(workflow):
                seen[passage.task_id] = passage
            return plain(workflow)

        serializer.dumps = dumps  # type: ignore[method-assign]

    def ordered(self, key: str) -> list[scenario_paths.Passage]:
        """One workflow's passages: done ones in completion order, then open ones."""
        return sorted(self.passages.get(key, {}).values(), key=lambda p: (not p.completed, p.changed_at))

class CaseRun:
    """One scenario on its own database."""

    def __init__(self, rt: Runtime, scenario: Scenario, recorder: Recorder) -> None:
        self.rt = rt
        self.scenario = scenario
        self.recorder = recorder
        self.zone = ZoneInfo(rt.settings.timezone)
        self.actors: dict[str, Actor] = {}
        self.case_id = ""
        self.case_key: str | None = None

    # -- who acts -----------------------------------------------------------------------------

    def actor(self, who: str) -> Actor:
        """The operator named by a username, else the first of that role in the case's zone."""
        if who in self.actors:
            return self.actors[who]
        zone = self.scenario.start_zone or case_start.zone_of(self.rt, self.scenario.process, self.scenario.start_data) or ""
        same_role = [a for a in self.actors.values() if a.role == who]
        for candidate in same_role:
            if zone in candidate.zones:
                return candidate
        if same_role:
            return same_role[0]
        raise Diverged(f"nobody is '{who}'", f"a username ({', '.join(self.actors)}) or a role (cpi, sds, ats)")

    # -- reading ------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The clock, in the service's time zone."""
        return self.rt.now().astimezone(self.zone)

    def data(self) -> dict[str, Any]:
        """The case's current data."""
        self.rt.workflows.clear()
        with self.rt.uow(write=False) as uow:
            return instance_service.read_workflow(self.rt, uow, self.case_id,
                                                  lambda loaded: current_data(loaded.handle))

    def header(self) -> dict[str, Any]:
        """The case's instance row."""
        with self.rt.uow(write=False) as uow:
            row = uow.instances.header(self.case_id)
        return dict(row) if row else {}

    def meetings(self) -> list[dict[str, Any]]:
        """Meetings the case was put on, with their agenda items, soonest first."""
        with self.rt.uow(write=False) as uow:
            rows = [dict(r) for r in uow.meetings.meetings_of_case(self.case_id)]
            for row in rows:
                row["items"] = {i["case_id"]: dict(i) for i in uow.meetings.agenda(row["id"])}
        return sorted(rows, key=lambda r: r["scheduled_at"])

    def open_tasks(self) -> list[dict[str, Any]]:
        """Open tasks about the case: its own and those of its discussions at the equipe."""
        if not self.case_id:
            return []
        with self.rt.uow(write=False) as uow:
            return [dict(r) for r in uow.inbox_search.for_case(self.case_id)]

    def all_passages(self) -> list[scenario_paths.Passage]:
        """What every workflow of the scenario went through."""
        return [p for key in self.recorder.passages for p in self.recorder.ordered(key)]

    def path(self) -> list[str]:
        """The case's elements, done ones in order, then what is open or waiting (marked)."""
        key = self.case_key or self._case_key()
        if key is None:
            return []
        return [p.element_name if p.completed else f"[{p.element_name}]" for p in self.recorder.ordered(key)]

    def _case_key(self) -> str | None:
        """The workflow key of the case (read once)."""
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
        """The starter opens the case with the start form."""
        actor = self.actor(self.scenario.start_as)
        self.case_id = case_start.open_case(self.rt, self.scenario.process, self.resolve(self.start_data()), actor)

    def start_data(self) -> dict[str, Any]:
        """The start form's answers, with the scenario's zone where the process declares it."""
        if self.scenario.start_zone is None:
            return dict(self.scenario.start_data)
        return case_start.with_zone(self.rt, self.scenario.process, self.scenario.start_data, self.scenario.start_zone)

    def run(self, step: Step) -> None:
        """Run one step; the next one loads every workflow afresh."""
        getattr(self, f"_{step.kind}")(step.values)
        self.rt.workflows.clear()

    def _complete(self, values: dict[str, Any]) -> None:
        """An operator opens the task page and submits the answers."""
        wanted = values["complete"]
        open_now = self.open_tasks()
        found = [t for t in open_now if wanted in (t["element_id"], t["name"])]
        if not found:
            names = ", ".join(f"{t['element_id']} ({t['name']})" for t in open_now) or "none"
            raise Diverged(f"task '{wanted}' is not open for this case; open tasks: {names}", f"'{wanted}' open")
        actor = self.actor(values["as"])
        header = self.header()
        mine = [t for t in found if authorization.can_work_task(actor, t, header)]
        if not mine:  # a participant's own task (e.g. a confirmation) is in that participant's queue only
            raise Diverged(f"task '{wanted}' is open, but not in the queue of '{values['as']}'",
                           f"'{wanted}' open for '{values['as']}'")
        task_id = mine[0]["id"]
        view = task_view.open_task(self.rt, task_id, actor)
        options = allowed_values(view.options)
        answers = self.resolve(dict(values.get("answers") or {}), options)
        try:
            task_service.complete_task(self.rt, task_id, answers, actor, options=options)
        except ValidationFailed as exc:
            raise Diverged(f"the form refused the answers: {exc.errors}", f"'{wanted}' completed") from None

    def _advance(self, values: dict[str, Any]) -> None:
        """Move the clock by a duration, firing what falls due on the way."""
        target = parse_duration(str(values["advance"])).after(self.rt.now(), self.rt.settings.timezone)
        clock_service.step_to(self.rt, target, RUNNER)

    def _advance_to(self, values: dict[str, Any]) -> None:
        """Move the clock to a moment, a meeting, the next timer or a date of the case."""
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
                base = moment(str(raw), self.zone)
            target = base + plus
        else:
            target = moment(spec, self.zone)
        if target < self.rt.now():
            raise Diverged(f"{target.isoformat()} is in the past (now {self.now().isoformat()})", "a later moment")
        clock_service.step_to(self.rt, target, RUNNER)

    def _message(self, values: dict[str, Any]) -> None:
        """Deliver a message as the API does."""
        correlation = self.resolve(values.get("correlation") or {"case_id": self.case_id})
        messages.send_message(self.rt, values["message"], correlation, self.resolve(values.get("payload") or {}),
                              self.actor(values.get("as", "scenario")) if "as" in values else RUNNER)

    def _request_monitoring(self, values: dict[str, Any]) -> None:
        """Ask for a monitoring as CPI, SdS or the case manager do."""
        monitoring.request_monitoring(self.rt, self.case_id, str(values["request_monitoring"]),
                                      self.actor(values["as"]))

    def _expect(self, values: dict[str, Any]) -> None:
        """Check what must hold now."""
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
        if "letters" in expect:
            self._expect_letters(expect["letters"])

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
        """E-mail queued with these subjects and recipients."""
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

    def _expect_letters(self, wanted: list[dict[str, Any]]) -> None:
        """Letters to the person on the case (attachment kind, how many, sent by e-mail or only printable)."""
        with self.rt.uow(write=False) as uow:
            rows = [dict(r) for r in uow.attachments.for_instance(self.case_id)]
            sent = {str(e["data"].get("allegato")): bool(e["data"].get("inviata_per_email"))
                    for e in uow.audit.for_instance(self.case_id) if e["action"] == "letter.issued"}
        for item in wanted:
            matching = [r for r in rows if ("kind" not in item or r["kind"] == item["kind"])
                        and ("emailed" not in item or sent.get(str(r["id"])) == bool(item["emailed"]))]
            count = item.get("count")
            if (count is None and not matching) or (count is not None and len(matching) != int(count)):
                kinds = sorted(str(r["kind"]) for r in rows)
                raise Diverged(f"{len(matching)} letter(s) match; documents on the case: {kinds}",
                               f"letters: {dict(item)}")

    def _expect_agenda(self, wanted: dict[str, Any]) -> None:
        """The case's latest meeting: date, zone, reason; how many meetings in all."""
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


def moment(text: str, zone: ZoneInfo) -> datetime:
    """An ISO date (midnight) or date-time; without an offset it is local time in `zone`."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), zone)
        found = datetime.fromisoformat(text)
    except ValueError:
        raise Diverged(f"{text!r} is not an ISO date-time", "a date-time such as 2026-03-02T09:00") from None
    return found if found.tzinfo else found.replace(tzinfo=zone)

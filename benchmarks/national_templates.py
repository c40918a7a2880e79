"""Real Percorso 4 cases to copy: the analysts' scenarios run through the service, one snapshot per step.

Each scenario runs in-process against the real use cases (the same runner as `gol-workflow test`);
after every step the rows of that case are read back from the scenario's database: the instance
with its serialised state, the case record, its tasks, audit rows, attachments, bookings,
subscriptions, the meetings and agenda items it was put on, and the equipe meeting instances.
The national data set generator copies these snapshots in bulk with other ids, names and dates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from gol_workflow.bootstrap import bootstrap
from gol_workflow.persistence import tables
from gol_workflow.services.administration import deployment
from gol_workflow.services.scenarios import steps
from gol_workflow.services.scenarios.files import parse_scenario, scenario_files
from gol_workflow.services.scenarios.runner import run_scenario, workspace

ROOT = Path(__file__).resolve().parent.parent

# Rows that belong to one case (by instance id or case id).
CASE_TABLES = {
    "instances": tables.instances.c.id,
    "cases": tables.cases.c.id,
    "tasks": tables.tasks.c.instance_id,
    "audit_events": tables.audit_events.c.instance_id,
    "attachments": tables.attachments.c.instance_id,
    "bookings": tables.bookings.c.case_id,
    "subscriptions": tables.subscriptions.c.instance_id,
    "meeting_agenda": tables.meeting_agenda.c.case_id,
    "subject_keys": tables.subject_keys.c.instance_id,
}


@dataclass
class Snapshot:
    """One case as the database held it after one step of a scenario."""

    scenario: str
    step: int
    case_id: str
    start_data: dict[str, Any]
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    meetings: list[dict[str, Any]] = field(default_factory=list)  # the meetings its agenda items point to
    meeting_instances: list[dict[str, Any]] = field(default_factory=list)  # the equipe meetings' own instances
    equipe_tasks: list[dict[str, Any]] = field(default_factory=list)  # open tasks of those meetings about the case

    @property
    def status(self) -> str:
        """The case's instance status at this step."""
        return str(self.rows["instances"][0]["status"])


def _snapshot(run: steps.CaseRun, index: int) -> Snapshot:
    """Read back every row of the case (and of the meetings it is on) after a step."""
    shot = Snapshot(run.scenario.name, index, run.case_id, dict(run.scenario.start_data))
    with run.rt.db.connect() as conn:
        for name, column in CASE_TABLES.items():
            table = tables.metadata.tables[name]
            order = [table.c.id] if "id" in table.c else list(table.primary_key.columns)
            shot.rows[name] = [dict(r) for r in conn.execute(
                select(table).where(column == run.case_id).order_by(*order)).mappings()]
        meeting_ids = sorted({r["meeting_id"] for r in shot.rows["meeting_agenda"]})
        if meeting_ids:
            shot.meetings = [dict(r) for r in conn.execute(
                select(tables.meetings).where(tables.meetings.c.id.in_(meeting_ids))).mappings()]
            instance_ids = [m["instance_id"] for m in shot.meetings if m["instance_id"]]
            shot.meeting_instances = [dict(r) for r in conn.execute(
                select(tables.instances).where(tables.instances.c.id.in_(instance_ids))).mappings()]
            shot.equipe_tasks = [dict(r) for r in conn.execute(
                select(tables.tasks).where(tables.tasks.c.instance_id.in_(instance_ids),
                                           tables.tasks.c.case_id == run.case_id)).mappings()]
    return shot


def capture(processes: Path = ROOT / "processes") -> list[Snapshot]:
    """Run every scenario beside the processes; every step's snapshot of its case, in order."""
    shots: list[Snapshot] = []
    plain = steps.CaseRun.run
    counter = {"step": 0}

    def run_and_keep(self: steps.CaseRun, step: Any) -> None:
        plain(self, step)
        counter["step"] += 1
        if step.kind != "expect":
            shots.append(_snapshot(self, counter["step"]))

    steps.CaseRun.run = run_and_keep  # type: ignore[method-assign]
    try:
        with workspace(bootstrap, processes) as space:
            sources = deployment.read_sources(space.processes, space.forms)
            for path in scenario_files(processes):
                counter["step"] = 0
                result = run_scenario(space, parse_scenario(path), sources)
                if not result.passed:
                    raise RuntimeError(f"scenario {path.name} failed: {result.failure}")
    finally:
        steps.CaseRun.run = plain  # type: ignore[method-assign]
    return shots


if __name__ == "__main__":
    import time
    t = time.perf_counter()
    found = capture()
    print(f"{len(found)} snapshots in {time.perf_counter() - t:.1f} s")
    for s in found:
        inst = s.rows["instances"][0]
        print(s.scenario[:40], s.step, inst["status"], inst["current_step"], len(inst["state"]),
              {k: len(v) for k, v in s.rows.items()}, len(s.meetings), len(s.meeting_instances), len(s.equipe_tasks))

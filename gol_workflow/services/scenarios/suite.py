"""Running every scenario of a process folder at once, summed up as a version or draft keeps it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ...clock import Clock
from ...config import Settings
from ..administration import deployment
from ..workflow.runtime import Runtime
from .coverage import coverage
from .files import ScenarioFileError, parse_scenario, scenario_files
from .runner import ScenarioResult, run_scenario, workspace


@dataclass
class SuiteResult:
    """Each scenario's outcome and the coverage of each process."""

    results: list[ScenarioResult] = field(default_factory=list)
    coverage: dict[str, tuple[float, float]] = field(default_factory=dict)  # process -> (% nodes, % flows)
    error: str | None = None  # a scenario file that could not be read

    @property
    def passed(self) -> int:
        """Scenarios that went as written."""
        return sum(r.passed for r in self.results)

    @property
    def failed(self) -> int:
        """Scenarios that diverged."""
        return len(self.results) - self.passed

    @property
    def ok(self) -> bool:
        """True when every scenario passed (and there was at least one)."""
        return self.error is None and bool(self.results) and not self.failed

    def summary(self, ran_at: datetime) -> dict[str, Any]:
        """What a version or draft stores of the run."""
        return {
            "passed": self.passed,
            "failed": self.failed,
            "error": self.error,
            "failures": [{"name": r.name, "file": r.path.name, "text": r.failure.text()}
                         for r in self.results if r.failure is not None],
            "coverage": {pid: {"nodes": round(n, 1), "flows": round(f, 1)} for pid, (n, f) in self.coverage.items()},
            "ran_at": ran_at.isoformat(),
        }


def run_suite(build: Callable[[Settings, Clock], Runtime], processes: Path, forms: Path | None = None,
              zones: Path | None = None, sources: deployment.Sources | None = None) -> SuiteResult:
    """Run every DIR/scenarios/*.yaml against `sources` (default: the folder's files)."""
    suite = SuiteResult()
    try:
        scenarios = [parse_scenario(path) for path in scenario_files(processes)]
    except ScenarioFileError as exc:
        suite.error = str(exc)
        return suite
    with workspace(build, processes, forms, zones) as space:
        sources = sources or deployment.read_sources(space.processes, space.forms)
        suite.results = [run_scenario(space, scenario, sources) for scenario in scenarios]
    for item in coverage(processes, suite.results):
        if item.nodes:
            suite.coverage[item.process_id] = (item.node_percent, item.flow_percent)
    return suite

"""The test processes as the benchmarks deploy them: worked by operators of their lane, not by administrators."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from gol_workflow.services.administration import deployment
from gol_workflow.services.administration.deployment import Sources

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
# The test processes draw one lane, "CPI"; the shipped lane file gives it to CPI operators. The
# benchmarks' own mapping also lets CPI operators start them, so no step needs an administrator.
LANES = b'[lanes]\n"CPI" = ["cpi"]\n\n[starters]\nfive_steps = ["cpi"]\ntimer_wait = ["cpi"]\n'


def operator_sources(processes: Path = DATA / "processes") -> Sources:
    """The test processes and forms with a lane file giving their lane to CPI operators."""
    return replace(deployment.read_sources(processes, DATA / "forms"), lanes=LANES)

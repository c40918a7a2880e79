"""The stored state is exactly what SpiffWorkflow's own converters write, and loads back to the same workflow."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow

from gol_workflow.engine.parsing import compile_from_sources
from gol_workflow.engine.runner import ProcessEngine
from gol_workflow.engine.serialization import StateSerializer
from tests.conftest import DATA, ROOT
from tests.spiff_reference import assert_restored_as_spiff, assert_stored_as_spiff, spiff_restored

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def assert_same_as_spiff(serializer: StateSerializer, workflow: BpmnWorkflow) -> str:
    """Check one workflow's stored text against Spiff's; returns the text."""
    text = serializer.dumps(workflow)
    assert_stored_as_spiff(serializer, workflow, text)
    return text


def test_every_step_of_a_process_is_stored_as_spiff_writes_it_and_loads_back() -> None:
    compiled = compile_from_sources({"five_steps.bpmn": (DATA / "processes" / "five_steps.bpmn").read_bytes()},
                                    "five_steps")
    engine = ProcessEngine()
    handle, snapshot = engine.start(compiled, {"zona": "pistoiese", "quando": date(2026, 3, 1)}, NOW)
    values: list[Any] = [
        {"nota": "ok", "importo": Decimal("12.50")},
        {"nota": "modificata", "alle": NOW + timedelta(hours=2)},
        {"elenco": [1, {"a": None}], "durata": timedelta(days=3)},
        {"nota": None},
        {},
    ]
    steps = 0
    while snapshot.ready:
        text = assert_same_as_spiff(engine.serializer, handle.workflow)
        restored = engine.load(compiled, text)
        assert engine.dumps(restored) == text  # loading and storing again changes nothing
        assert_restored_as_spiff(restored.workflow, spiff_restored(engine.serializer, text, compiled))
        handle = restored
        snapshot = engine.complete_task(handle, next(iter(snapshot.ready)), values[steps], NOW)
        steps += 1
    assert steps == 5 and snapshot.status.value == "completed"
    final = engine.load(compiled, assert_same_as_spiff(engine.serializer, handle.workflow))
    data = final.data()
    assert data["importo"] == Decimal("12.50") and data["quando"] == date(2026, 3, 1)
    assert data["alle"] == NOW + timedelta(hours=2) and data["durata"] == timedelta(days=3)
    assert data["nota"] is None and data["total"] == 6


def test_a_workflow_with_multi_instance_subprocesses_is_stored_as_spiff_writes_it() -> None:
    # The previous meeting diagram (each case a multi-instance child), as meetings convened before it still run.
    meetings = ROOT / "tests" / "data" / "processes-meetings"
    sources = {path.name: path.read_bytes() for path in meetings.glob("*.bpmn")}
    compiled = compile_from_sources(sources, "riunione_equipe")
    engine = ProcessEngine()
    cases = {f"caso-{n}": {"case_id": f"caso-{n}", "zona": "pistoiese", "beneficiario": {"nome": "A", "cognome": str(n)}}
             for n in range(3)}
    started = {"zona": "pistoiese", "riunione_id": 7, "data_equipe": (NOW - timedelta(hours=1)).isoformat(),
               "luogo": "Pistoia", "casi": cases}
    handle, _ = engine.start(compiled, started, NOW, lambda operation, params, data: {"inviati": 3})
    snapshot = engine.fire_timers(handle, NOW)
    assert len(handle.workflow.subprocesses) == 3 and len(snapshot.ready) == 3
    text = assert_same_as_spiff(engine.serializer, handle.workflow)
    handle = engine.load(compiled, text)
    assert engine.dumps(handle) == text
    assert_restored_as_spiff(handle.workflow, spiff_restored(engine.serializer, text, compiled))
    engine.complete_task(handle, next(iter(snapshot.ready)), {"presente": True, "nota": "discusso"}, NOW)
    assert_same_as_spiff(engine.serializer, handle.workflow)

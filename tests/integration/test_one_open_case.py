"""At most one open case per person (codice fiscale) and process, also when two starts race."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from gol_workflow.bootstrap import bootstrap
from gol_workflow.domain.errors import Forbidden, OpenCaseExists, ValidationFailed
from gol_workflow.persistence.instances import InstanceRepository
from gol_workflow.persistence.tables import instances
from gol_workflow.services.cases import case_start
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    LUCIA,
    MARCO,
    Percorso4,
    codice_fiscale,
    p4,
    person,
    smtp,
)


def cases_of(rt: Runtime, code: str) -> int:
    with rt.uow(write=False) as uow:
        return uow.conn.execute(select(func.count()).select_from(instances)
                                .where(instances.c.codice_fiscale == code)).scalar_one()


def test_a_second_open_case_for_the_same_person_is_refused_naming_the_first(p4: Percorso4) -> None:
    first = p4.open_case("pistoiese", LUCIA)
    # A retry or a colleague of the zone is told which case is open; a CPI of another zone is
    # refused too, but not told which case it is (it is not theirs to see).
    for operator, zone, named in (("cpi.pistoia", "pistoiese", first), ("cpi.pescia", "valdinievole", None)):
        with pytest.raises(OpenCaseExists) as refused:
            case_start.open_case(p4.rt, "percorso4", {"zona": zone, "beneficiario": dict(LUCIA)}, p4.actors[operator])
        assert refused.value.case_id == named
        assert first not in refused.value.message or named
    lowercase = {**LUCIA, "codice_fiscale": LUCIA["codice_fiscale"].lower()}
    with pytest.raises(OpenCaseExists):
        case_start.open_case(p4.rt, "percorso4", {"zona": "pistoiese", "beneficiario": lowercase},
                             p4.actors["cpi.pistoia"])
    assert cases_of(p4.rt, LUCIA["codice_fiscale"]) == 1
    p4.open_case("pistoiese", MARCO)  # another person is not affected


def test_a_closed_case_lets_the_person_start_again(p4: Percorso4) -> None:
    first = p4.open_case("pistoiese", LUCIA)
    instance_service.terminate(p4.rt, first, ADMIN, "aperto per errore")
    second = p4.open_case("pistoiese", LUCIA)
    assert second != first and cases_of(p4.rt, LUCIA["codice_fiscale"]) == 2


def test_an_administrator_may_open_a_second_case_with_a_reason_that_is_audited(p4: Percorso4) -> None:
    first = p4.open_case("pistoiese", LUCIA)
    data = {"zona": "pistoiese", "beneficiario": dict(LUCIA)}
    with pytest.raises(Forbidden):
        case_start.open_case(p4.rt, "percorso4", data, p4.actors["cpi.pistoia"], duplicate_reason="urgente")
    with pytest.raises(ValidationFailed):
        case_start.open_case(p4.rt, "percorso4", data, ADMIN, duplicate_reason="  ")
    second = case_start.open_case(p4.rt, "percorso4", data, ADMIN, duplicate_reason="Caso sdoppiato su richiesta del CPI")
    (started,) = p4.audit("instance.started", second)
    assert started["data"]["duplicate"] == {"reason": "Caso sdoppiato su richiesta del CPI", "open_case": first}
    assert cases_of(p4.rt, LUCIA["codice_fiscale"]) == 2
    with pytest.raises(OpenCaseExists) as refused:  # the override was for that one case only
        p4.open_case("pistoiese", LUCIA)
    assert refused.value.case_id == first


def test_two_starts_at_the_same_moment_open_exactly_one_case(p4: Percorso4) -> None:
    # Two web workers (two runtimes, two connection pools) receive the same start at once.
    other = bootstrap(p4.rt.settings, clock=p4.clock)
    try:
        for n in range(8):
            code = codice_fiscale(f"RSSMRA80A{n + 1:02d}G713")
            data = {"zona": "pistoiese", "beneficiario": person("Rossi", "Mario", code[:15], f"1980-01-{n + 1:02d}")}
            barrier = threading.Barrier(2)
            outcomes: list[str] = []

            def start(rt: Runtime, data: dict = data, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                try:
                    case_start.open_case(rt, "percorso4", data, p4.actors["cpi.pistoia"])
                    outcomes.append("opened")
                except OpenCaseExists:
                    outcomes.append("refused")

            threads = [threading.Thread(target=start, args=(rt,)) for rt in (p4.rt, other)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(outcomes) == ["opened", "refused"], outcomes
            assert cases_of(p4.rt, code) == 1
    finally:
        other.db.dispose()


def test_the_database_refuses_a_second_open_case_the_check_did_not_see(p4: Percorso4, monkeypatch) -> None:
    # The check before the start and the start are not atomic: the unique index decides.
    first = p4.open_case("pistoiese", LUCIA)
    real = InstanceRepository.open_case
    calls: list[int] = []

    def blind_once(self, *args):
        calls.append(1)
        return None if len(calls) == 1 else real(self, *args)

    monkeypatch.setattr(InstanceRepository, "open_case", blind_once)
    with pytest.raises(OpenCaseExists) as refused:
        case_start.open_case(p4.rt, "percorso4", {"zona": "pistoiese", "beneficiario": dict(LUCIA)},
                             p4.actors["cpi.pistoia"])
    assert refused.value.case_id == first and len(calls) >= 2
    assert cases_of(p4.rt, LUCIA["codice_fiscale"]) == 1

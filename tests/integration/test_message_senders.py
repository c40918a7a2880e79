"""Who may send a BPMN message from outside: declared in processes/messages.toml, checked before anything is written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from gol_workflow.domain.errors import Forbidden, ValidationFailed
from gol_workflow.domain.model import Actor
from gol_workflow.persistence.tables import audit_events, pending_messages
from gol_workflow.services.integrations import messages
from tests.conftest import ADMIN
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    LUCIA,
    MARCO,
    Percorso4,
    p4,
    profilo,
    scheda,
    smtp,
)
from tests.integration.test_percorso4_monitoring import in_the_path

SPECIALIST = Actor("ufsma.pistoia", "specialist", frozenset({"pistoiese"}), frozenset({"salute_mentale"}))
NON_ATTIVABILE = {"scheda_esito": {"servizi_presenti": ["centro_impiego"], "beneficiario_presente": False,
                                   "decisione": "non_attivabile", "motivazione": "Chiuso senza riunione."}}


def footprint(p4: Percorso4, case: str) -> tuple[Any, ...]:
    """Everything a refused message must leave as it was."""
    header = p4.header(case)
    with p4.rt.uow(write=False) as uow:
        kept = uow.conn.execute(select(func.count()).select_from(pending_messages)).scalar_one()
        audited = uow.conn.execute(select(func.count()).select_from(audit_events)
                                   .where(audit_events.c.instance_id == case)).scalar_one()
    return header["status"], header["row_version"], header["error"], p4.ready(case), kept, audited


def waiting_for_the_equipe(p4: Percorso4) -> str:
    case = p4.open_case("pistoiese", MARCO)
    p4.complete("profilazione", case, profilo(servizi=["salute_mentale"]), "cpi.pistoia")
    assert p4.header(case)["status"] == "waiting" and "salute_mentale" in p4.header(case)["specialist_services"]
    return case


def test_everyone_who_sees_a_case_waiting_for_the_equipe_is_refused_its_outcome(p4: Percorso4) -> None:
    case = waiting_for_the_equipe(p4)
    before = footprint(p4, case)
    for who in (p4.actors["cpi.pistoia"], p4.actors["sds.pistoia"], SPECIALIST):
        with pytest.raises(Forbidden):
            messages.send_message(p4.rt, "esito_equipe", {"case_id": case}, NON_ATTIVABILE, who)
        assert footprint(p4, case) == before
    assert p4.data(case).get("scheda_esito") is None


def test_the_case_manager_cannot_plant_an_outcome_for_later(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    in_the_path(p4, {case: "cm.rossi"})
    before = footprint(p4, case)
    with pytest.raises(Forbidden):
        messages.send_message(p4.rt, "esito_equipe", {"case_id": case}, NON_ATTIVABILE, p4.actors["cm.rossi"])
    assert footprint(p4, case) == before  # nothing buffered to be applied at the next review


@pytest.mark.parametrize(("payload", "field"), [
    ({"scheda_esito": {"decisione": "chiudere"}}, "payload.scheda_esito.decisione"),
    ({}, "payload.scheda_esito"),
    ({"scheda_esito": NON_ATTIVABILE["scheda_esito"], "extra": 1}, "payload.extra"),
    ({"case_id": "un-altro-caso", **NON_ATTIVABILE}, "payload.case_id"),
    ("testo", "payload"),
])
def test_an_invalid_outcome_from_an_administrator_is_refused_field_by_field(p4: Percorso4, payload: Any,
                                                                            field: str) -> None:
    case = waiting_for_the_equipe(p4)
    before = footprint(p4, case)
    with pytest.raises(ValidationFailed) as refused:
        messages.send_message(p4.rt, "esito_equipe", {"case_id": case}, payload, ADMIN)
    assert field in refused.value.errors
    assert footprint(p4, case) == before  # not delivered, not kept, no instance in error


def test_an_early_message_is_validated_before_it_is_kept(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)  # still at profiling: nobody waits for the outcome yet
    before = footprint(p4, case)
    with pytest.raises(ValidationFailed):
        messages.send_message(p4.rt, "esito_equipe", {"case_id": case}, {"scheda_esito": {}}, ADMIN)
    assert footprint(p4, case) == before
    with pytest.raises(Forbidden):
        messages.send_message(p4.rt, "esito_equipe", {"case_id": case}, NON_ATTIVABILE, p4.actors["cpi.pistoia"])
    assert footprint(p4, case) == before


def test_a_valid_outcome_from_an_administrator_still_works(p4: Percorso4) -> None:
    case = waiting_for_the_equipe(p4)
    result = messages.send_message(p4.rt, "esito_equipe", {"case_id": case}, scheda(presente=True), ADMIN)
    assert result == messages.DeliveryResult(case, False)
    assert p4.data(case)["scheda_esito"]["decisione"] == "presa_in_carico"
    assert p4.ready(case) == ["prenota_primo_appuntamento"]


def test_an_undeclared_message_only_administrators_may_send(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    with pytest.raises(Forbidden):
        messages.send_message(p4.rt, "messaggio_ignoto", {"case_id": case}, {}, p4.actors["cpi.pistoia"])
    with pytest.raises(ValidationFailed):
        messages.send_message(p4.rt, "messaggio_ignoto", {"case_id": case}, [1], ADMIN)
    assert messages.send_message(p4.rt, "messaggio_ignoto", {"case_id": case}, {"x": 1}, ADMIN).buffered

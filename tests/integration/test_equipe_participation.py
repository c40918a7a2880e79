"""The equipe decides together (Percorso 4, step 3): who took part, and each participant's confirmation.

The scheda records who took part and is refused without the CPI or the zone's Social Services, or
when an invited specialist service is neither present nor excused; each required participant then
confirms the decision (or records a motivated dissent) in their own service's queue, and only a
decision confirmed by all of them reaches the case. Each case's discussion is an instance of its
own, and the meeting instance ends once it has started them. Over the service and over the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from gol_workflow.domain.errors import NotFound, ValidationFailed
from gol_workflow.services.cases import case_file
from gol_workflow.services.access import tokens
from gol_workflow.web import create_app
from tests.conftest import ADMIN, ROME
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    ANNA,
    LUCIA,
    MARCO,
    Percorso4,
    p4,
    profilo,
    scheda,
    smtp,
)

MEETING = "pistoiese-20260113"
SOCIAL_SERVICES_REQUIRED = ("Senza il Servizio Sociale la scheda non è valida: l'equipe decide insieme al Centro "
                            "per l'Impiego e al Servizio Sociale della zona.")
CPI_REQUIRED = ("Senza il Centro per l'Impiego la scheda non è valida: l'equipe decide insieme al Centro "
                "per l'Impiego e al Servizio Sociale della zona.")
MENTAL_HEALTH_UNDECLARED = ("Salute mentale adulti (UFSMA) è invitato per questo caso: indicare se era presente "
                            "o ha dichiarato la propria assenza.")


def at_meeting(p4: Percorso4, *cases_and_services: tuple[str, list[str] | None]) -> None:
    """Profile the cases (with their specialist services) and move to the meeting time."""
    for case, services in cases_and_services:
        p4.complete("profilazione", case, profilo(servizi=services), "cpi.pistoia")
    p4.advance_to(datetime(2026, 1, 13, 9, 31, tzinfo=ROME))


def confirmations(p4: Percorso4, case: str) -> list[dict[str, Any]]:
    return p4.inbox(element="conferma_decisione", case_id=case)


def test_a_scheda_without_the_social_services_or_the_cpi_is_refused_and_the_case_keeps_waiting(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    at_meeting(p4, (case, None))
    without_sds = scheda(presente=True)
    without_sds["scheda_esito"]["servizi_presenti"] = ["centro_impiego"]
    with pytest.raises(ValidationFailed) as refused:
        p4.complete("scheda_esito", case, without_sds, "cpi.pistoia")
    assert refused.value.errors == {"scheda_esito.servizi_presenti": [SOCIAL_SERVICES_REQUIRED]}
    only_sds = scheda(presente=True)
    only_sds["scheda_esito"]["servizi_presenti"] = ["servizio_sociale"]
    with pytest.raises(ValidationFailed) as refused:
        p4.complete("scheda_esito", case, only_sds, "sds.pistoia")
    assert refused.value.errors == {"scheda_esito.servizi_presenti": [CPI_REQUIRED]}
    assert p4.ready(case) == ["scheda_esito"]  # nothing was recorded: the scheda is still to be written
    assert p4.header(case)["status"] == "waiting" and p4.data(case).get("scheda_esito") is None


def test_an_invited_specialist_service_is_present_or_declares_its_absence(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    at_meeting(p4, (case, ["salute_mentale", "dipendenze"]))
    silent = scheda(presente=True, invitati={"dipendenze": True})
    with pytest.raises(ValidationFailed) as refused:
        p4.complete("scheda_esito", case, silent, "sds.pistoia")
    assert refused.value.errors == {"scheda_esito.servizi_specialistici_invitati": [MENTAL_HEALTH_UNDECLARED]}
    not_invited = scheda(presente=True, invitati={"salute_mentale": True, "dipendenze": True, "disabilita": False})
    with pytest.raises(ValidationFailed) as refused:
        p4.complete("scheda_esito", case, not_invited, "sds.pistoia")
    assert refused.value.errors == {
        "scheda_esito.servizi_specialistici_invitati": ["Disabilità adulti non è invitato per questo caso."]}
    unexplained = scheda(presente=True, invitati={"salute_mentale": False, "dipendenze": True})
    del unexplained["scheda_esito"]["servizi_specialistici_invitati"][0]["motivo_assenza"]
    with pytest.raises(ValidationFailed) as refused:
        p4.complete("scheda_esito", case, unexplained, "sds.pistoia")
    assert list(refused.value.errors) == ["scheda_esito.servizi_specialistici_invitati.0.motivo_assenza"]

    # Mental health declared its absence, the SerD took part: the SerD confirms, mental health does not.
    p4.complete("scheda_esito", case, scheda(presente=True, invitati={"salute_mentale": False, "dipendenze": True}),
                "sds.pistoia")
    assert sorted(t["participant"] for t in confirmations(p4, case)) == [
        "centro_impiego", "dipendenze", "servizio_sociale"]
    with pytest.raises(AssertionError):  # nothing in the mental health referent's queue
        p4.confirm(case, "sm.pistoia")
    with pytest.raises(NotFound):  # nor may they open the SerD's confirmation
        p4.task_page_of(next(t for t in confirmations(p4, case) if t["participant"] == "dipendenze"), "sm.pistoia")
    for who in ("serd.pistoia", "cpi.pistoia", "sds.pistoia"):
        p4.confirm(case, who)
    assert p4.ready(case) == ["prenota_primo_appuntamento"]
    final = p4.data(case)["scheda_esito"]
    assert final["partecipanti"] == ["Centro per l'Impiego", "Servizio Sociale", "Dipendenze (SerD)"]
    assert final["assenti_giustificati"] == ["Salute mentale adulti (UFSMA)"]
    drafted = p4.audit("equipe.scheda_drafted", case)[-1]
    assert drafted["data"]["partecipanti"] == ["Centro per l'Impiego", "Servizio Sociale", "Dipendenze (SerD)"]
    assert drafted["data"]["assenti"] == ["Salute mentale adulti (UFSMA)"]


def test_two_participants_confirm_and_only_then_the_decision_reaches_the_case(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    at_meeting(p4, (case, None))
    meeting_instance = p4.meeting(MEETING)["instance_id"]
    assert p4.header(meeting_instance)["status"] == "completed"  # the meeting ended once its discussions began
    p4.complete("scheda_esito", case, scheda(presente=True), "sds.pistoia")
    cpi_task, sds_task = sorted(confirmations(p4, case), key=lambda t: t["participant"])
    assert (cpi_task["participant"], sds_task["participant"]) == ("centro_impiego", "servizio_sociale")
    # Each confirmation is in its own service's queue, in the case's zone only.
    for outsider in ("sds.pistoia", "cpi.pescia", "sm.pistoia"):
        with pytest.raises(NotFound):
            p4.task_page_of(cpi_task, outsider)
    for outsider in ("cpi.pistoia", "sds.pescia"):
        with pytest.raises(NotFound):
            p4.task_page_of(sds_task, outsider)
    assert "Centro per l'Impiego: confermare la decisione" in p4.task_page_of(cpi_task, "cpi.pistoia").instructions

    p4.confirm(case, "cpi.pistoia")
    assert p4.ready(case) == ["conferma_decisione"] and p4.data(case).get("scheda_esito") is None  # not final yet
    p4.confirm(case, "sds.pistoia")
    assert p4.ready(case) == ["prenota_primo_appuntamento"]
    final = p4.data(case)["scheda_esito"]
    assert final["partecipanti"] == final["confermata_da"] == ["Centro per l'Impiego", "Servizio Sociale"]
    assert final["assenti_giustificati"] == []
    found = case_file.open_case(p4.rt, case, p4.actors["cpi.pistoia"])  # as GET /api/v1/cases/{id} reads it
    record = found.record
    assert record["equipe_participants"] == record["equipe_confirmed_by"] == [
        "Centro per l'Impiego", "Servizio Sociale"]
    said = [(e.actor, e.label) for e in found.story if e.action.startswith("equipe.")]
    assert said[-3:] == [
        ("sds.pistoia", "Scheda di esito redatta dall'equipe"),
        ("cpi.pistoia", "Decisione dell'equipe confermata"),
        ("sds.pistoia", "Decisione dell'equipe confermata")]


def test_a_dissent_is_recorded_with_its_reason_and_sends_the_scheda_back_to_the_equipe(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    at_meeting(p4, (case, ["salute_mentale"]))
    p4.complete("scheda_esito", case, scheda(presente=True, invitati={"salute_mentale": True}), "cpi.pistoia")
    p4.confirm(case, "cpi.pistoia")
    p4.confirm(case, "sm.pistoia", dissent="Il tirocinio è prematuro: prima un percorso di sostegno.")
    p4.confirm(case, "sds.pistoia")
    assert p4.ready(case) == ["scheda_esito"]  # not final: back to the equipe
    assert p4.data(case).get("scheda_esito") is None
    (dissent,) = p4.audit("equipe.dissented", case)
    assert dissent["actor"] == "sm.pistoia" and dissent["data"]["motivazione"].startswith("Il tirocinio è prematuro")
    page = p4.task_page("scheda_esito", case, "sds.pistoia")
    assert "Salute mentale adulti (UFSMA) (Il tirocinio è prematuro" in page.instructions

    p4.complete("scheda_esito", case, scheda(presente=True, decisione="rinvio", invitati={"salute_mentale": True}),
                "sds.pistoia")
    for who in ("sm.pistoia", "sds.pistoia", "cpi.pistoia"):
        p4.confirm(case, who)
    assert p4.data(case)["scheda_esito"]["decisione"] == "rinvio"
    assert p4.data(case)["scheda_esito"]["confermata_da"] == [
        "Centro per l'Impiego", "Servizio Sociale", "Salute mentale adulti (UFSMA)"]
    assert [m["id"] for m in p4.meetings_of(case)] == [MEETING, "pistoiese-20260120"]


def test_schede_of_different_cases_are_separate_units_of_work(p4: Percorso4) -> None:
    lucia, marco, anna = (p4.open_case("pistoiese", person) for person in (LUCIA, MARCO, ANNA))
    at_meeting(p4, (lucia, None), (marco, None), (anna, None))
    schede = {t["case_id"]: t["instance_id"] for t in p4.inbox(element="scheda_esito")}
    assert set(schede) == {lucia, marco, anna} and len(set(schede.values())) == 3
    assert {p4.header(i)["process_id"] for i in schede.values()} == {"discussione_caso"}
    p4.decide(marco, scheda(presente=True, decisione="non_attivabile"), "sds.pistoia")
    assert p4.header(schede[marco])["status"] == "completed"  # its discussion ended with the decision
    assert p4.header(schede[lucia])["status"] == "running"
    assert p4.header(marco)["status"] == "completed"


def test_the_same_rules_over_the_api_with_field_errors(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    at_meeting(p4, (case, ["salute_mentale"]))
    app = create_app(p4.rt, {"TESTING": True})

    def post(username: str, url: str, body: Any) -> Any:
        secret = tokens.issue_token(p4.rt, username, ADMIN).secret
        return app.test_client().post(url, json=body, headers={"Authorization": f"Bearer {secret}"})

    def inbox(username: str) -> list[dict[str, Any]]:
        secret = tokens.issue_token(p4.rt, username, ADMIN).secret
        answer = app.test_client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {secret}"})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return [t for t in answer.get_json()["items"] if t["case"]["id"] == case]

    (task,) = p4.inbox(element="scheda_esito", case_id=case)
    alone = scheda(presente=True)
    alone["scheda_esito"]["servizi_presenti"] = ["centro_impiego"]
    answer = post("cpi.pistoia", f"/api/v1/tasks/{task['id']}/complete", {"data": alone})
    assert answer.status_code == 400
    assert answer.get_json()["errors"] == {
        "scheda_esito.servizi_presenti": [SOCIAL_SERVICES_REQUIRED],
        "scheda_esito.servizi_specialistici_invitati": [MENTAL_HEALTH_UNDECLARED]}
    done = post("cpi.pistoia", f"/api/v1/tasks/{task['id']}/complete",
                {"data": scheda(presente=True, invitati={"salute_mentale": True})})
    assert done.status_code == 200, done.get_data(as_text=True)
    mine = {t["participant"]: t["id"] for t in confirmations(p4, case)}
    assert set(mine) == {"centro_impiego", "servizio_sociale", "salute_mentale"}
    # Each participant's inbox lists its own confirmation only.
    for username, participant in (("cpi.pistoia", "centro_impiego"), ("sds.pistoia", "servizio_sociale"),
                                  ("sm.pistoia", "salute_mentale")):
        assert [(t["element"], t["participant"], t["id"]) for t in inbox(username)] == [
            ("conferma_decisione", participant, mine[participant])]
    wrong_queue = post("sds.pistoia", f"/api/v1/tasks/{mine['centro_impiego']}/complete",
                       {"data": {"conferma_partecipante": {"esito": "conferma"}}})
    assert wrong_queue.status_code == 404
    no_reason = post("sm.pistoia", f"/api/v1/tasks/{mine['salute_mentale']}/complete",
                     {"data": {"conferma_partecipante": {"esito": "dissenso"}}})
    assert no_reason.status_code == 400 and list(no_reason.get_json()["errors"]) == [
        "conferma_partecipante.motivazione"]
    for username, participant in (("cpi.pistoia", "centro_impiego"), ("sds.pistoia", "servizio_sociale"),
                                  ("sm.pistoia", "salute_mentale")):
        answer = post(username, f"/api/v1/tasks/{mine[participant]}/complete",
                      {"data": {"conferma_partecipante": {"esito": "conferma"}}})
        assert answer.status_code == 200, answer.get_data(as_text=True)
    p4.rt.workflows.clear()
    assert p4.ready(case) == ["prenota_primo_appuntamento"]
    everyone = ["Centro per l'Impiego", "Servizio Sociale", "Salute mentale adulti (UFSMA)"]
    assert p4.data(case)["scheda_esito"]["confermata_da"] == everyone
    secret = tokens.issue_token(p4.rt, "cpi.pistoia", ADMIN).secret
    record = app.test_client().get(f"/api/v1/cases/{case}", headers={"Authorization": f"Bearer {secret}"})
    assert record.status_code == 200
    assert record.get_json()["equipe_participants"] == record.get_json()["equipe_confirmed_by"] == everyone

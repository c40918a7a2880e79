"""Messages to waiting instances, zones and the equipe meetings each person may read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.meetings import equipe
from tests.conftest import ADMIN, DATA, deploy_dir
from tests.web.conftest import ready

from .conftest import assert_problem


@pytest.fixture
def waiting_case(api_runtime):
    """An instance of zone nord waiting for the message `conferma` about itself."""
    deploy_dir(api_runtime, DATA / "processes", DATA / "forms")
    return instance_service.start_instance(api_runtime, "message_wait", {"zona": "nord"}, ADMIN).instance_id


def test_a_message_reaches_the_waiting_instance(api, api_runtime, waiting_case) -> None:
    body = {"name": "conferma", "correlation": {"case_id": waiting_case},
            "payload": {"case_id": waiting_case, "esito": "ok"}}
    response = api("cpi.nord").post("/api/v1/messages", json=body)
    assert response.status_code == 200
    assert response.get_json() == {"delivered_to": waiting_case, "buffered": False}
    assert [t["name"] for t in ready(api_runtime, waiting_case)] == ["Dopo la conferma"]


def test_the_correlation_is_carried_into_the_payload(api, api_runtime, waiting_case) -> None:
    body = {"name": "conferma", "correlation": {"case_id": waiting_case}, "payload": {"esito": "ok"}}
    assert api("cpi.nord").post("/api/v1/messages", json=body).status_code == 200
    assert [t["name"] for t in ready(api_runtime, waiting_case)] == ["Dopo la conferma"]


@pytest.mark.parametrize("payload", ["testo", None, [1]])
def test_a_payload_the_process_cannot_correlate_is_400_and_the_instance_keeps_waiting(api, api_runtime, waiting_case,
                                                                                      payload) -> None:
    body = {"name": "conferma", "correlation": {"case_id": waiting_case}, "payload": payload}
    problem = assert_problem(api("admin").post("/api/v1/messages", json=body), 400, "validation-failed")
    assert list(problem["errors"]) == ["payload"]
    assert ready(api_runtime, waiting_case) == []
    with api_runtime.uow(write=False) as uow:
        assert uow.instances.header(waiting_case)["status"] == "waiting"


def test_a_message_nobody_waits_for_is_kept(api, api_runtime, waiting_case) -> None:
    body = {"name": "conferma", "correlation": {"case_id": "caso-futuro"}, "payload": {"case_id": "caso-futuro"}}
    assert api("admin").post("/api/v1/messages", json=body).get_json() == {"delivered_to": None, "buffered": True}
    later = instance_service.start_instance(api_runtime, "message_wait", {"zona": "nord", "case_id": "caso-futuro"},
                                            ADMIN).instance_id
    with api_runtime.uow(write=False) as uow:
        assert [t["name"] for t in uow.inbox.for_instance(later)] == ["Dopo la conferma"]


def test_messages_about_cases_one_does_not_follow_are_403(api, api_runtime, waiting_case) -> None:
    body = {"name": "conferma", "correlation": {"case_id": waiting_case}, "payload": {"case_id": waiting_case}}
    for who in ("cpi.sud", "ats.altro", "analista"):
        assert_problem(api(who).post("/api/v1/messages", json=body), 403, "forbidden")
    assert ready(api_runtime, waiting_case) == []


@pytest.mark.parametrize(("body", "field"), [
    ({"correlation": {"case_id": "x"}}, "name"),
    ({"name": "conferma", "correlation": {}}, "correlation"),
    ({"name": "conferma", "correlation": {"case_id": {"annidato": 1}}}, "correlation"),
    ({"name": "conferma", "correlation": {"case_id": "x" * 600}}, "correlation"),
    ({"name": "conferma", "correlation": {"case_id": "x"}, "payload": "a\u0000"}, "payload"),
    ({"name": "x" * 256, "correlation": {"case_id": "x"}}, "name"),
])
def test_invalid_messages_are_400(api, body, field) -> None:
    assert field in assert_problem(api("admin").post("/api/v1/messages", json=body), 400, "invalid-request")["errors"]


def test_zones_are_listed_with_whether_their_agenda_is_visible(api) -> None:
    body = api("cpi.nord").get("/api/v1/zones").get_json()
    assert body["total"] == 2
    nord, sud = body["items"]
    assert (nord["id"], nord["name"], nord["agenda_visible"], sud["agenda_visible"]) == ("nord", "Zona Nord", True, False)
    assert nord["equipe"] == {"weekday": "martedi", "time": "09:30", "cadence_weeks": 1,
                              "location": "SdS Nord, sala riunioni, Pistoia", "notice_days": 5}
    assert [s["id"] for s in nord["specialist_services"]] == ["salute_mentale", "dipendenze"]
    assert [z["agenda_visible"] for z in api("ats.nord").get("/api/v1/zones").get_json()["items"]] == [False, False]


def _agenda(rt) -> str:
    equipe.plan_meetings(rt)
    with rt.uow() as uow:
        meeting_id = uow.meetings.between("nord", rt.now(), None, 1)[0]["id"]
        for case_id, nome, services in (("c1", "Laura", ["salute_mentale"]), ("c2", "Gino", [])):
            uow.meetings.add_to_agenda({
                "meeting_id": meeting_id, "case_id": case_id, "reason": "prima_valutazione",
                "added_at": datetime(2026, 1, 5, 8, tzinfo=UTC),
                "item": {"case_id": case_id, "beneficiario": {"nome": nome, "cognome": "Rossi",
                                                             "codice_fiscale": None},
                         "servizi_specialistici": services}})
        uow.commit()
    return meeting_id


def test_meetings_with_date_cutoff_and_agenda(api, api_runtime) -> None:
    meeting_id = _agenda(api_runtime)
    body = api("sds.nord").get("/api/v1/zones/nord/meetings").get_json()
    first = body["items"][0]
    assert body["total"] == len(body["items"]) >= 2
    assert first["id"] == meeting_id == "nord-20260113"
    assert first["scheduled_at"] == "2026-01-13T09:30:00+01:00" and first["cutoff_at"] == "2026-01-08T09:30:00+01:00"
    assert first["location"] == "SdS Nord, sala riunioni, Pistoia" and first["status"] == "planned"
    assert [(a["case_id"], a["beneficiary"], a["reason"]) for a in first["agenda"]] == [
        ("c1", "Laura Rossi", "prima_valutazione"), ("c2", "Gino Rossi", "prima_valutazione")]
    assert first["invited_services"] == ["salute_mentale"] and first["hidden"] == 0


def test_a_specialist_sees_only_the_cases_of_their_service(api, api_runtime) -> None:
    _agenda(api_runtime)
    first = api("spec.nord").get("/api/v1/zones/nord/meetings").get_json()["items"][0]
    assert [a["case_id"] for a in first["agenda"]] == ["c1"] and first["hidden"] == 1


def test_meetings_of_a_zone_one_may_not_read(api, api_runtime) -> None:
    _agenda(api_runtime)
    for who in ("cpi.sud", "sds.sud", "ats.nord", "analista"):
        assert_problem(api(who).get("/api/v1/zones/nord/meetings"), 403, "forbidden")
    assert_problem(api("admin").get("/api/v1/zones/atlantide/meetings"), 404, "not-found")
    assert api("admin").get("/api/v1/zones/sud/meetings").status_code == 200


def test_a_declared_payload_is_checked_field_by_field_and_a_refusal_changes_nothing(api, api_runtime,
                                                                                     waiting_case) -> None:
    body = {"name": "conferma", "correlation": {"case_id": waiting_case}, "payload": {"esito": "forse", "x": 1}}
    problem = assert_problem(api("admin").post("/api/v1/messages", json=body), 400, "validation-failed")
    assert set(problem["errors"]) == {"payload.esito", "payload.x"}
    with api_runtime.uow(write=False) as uow:
        header = uow.instances.header(waiting_case)
        assert (header["status"], header["row_version"], header["error"]) == ("waiting", 1, None)
        assert uow.instances.take_buffered("conferma", f"case_id={waiting_case}") is None
    assert ready(api_runtime, waiting_case) == []


def test_an_undeclared_message_only_administrators_may_send(api, api_runtime, waiting_case) -> None:
    body = {"name": "nota", "correlation": {"case_id": waiting_case}, "payload": {}}
    for who in ("cpi.nord", "sds.nord"):
        assert_problem(api(who).post("/api/v1/messages", json=body), 403, "forbidden")
    with api_runtime.uow(write=False) as uow:
        assert uow.instances.take_buffered("nota", f"case_id={waiting_case}") is None
    assert api("admin").post("/api/v1/messages", json=body).get_json() == {"delivered_to": None, "buffered": True}

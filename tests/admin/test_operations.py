"""Repairs on one instance: named operations with their outcome, and editing the data of a suspended instance."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gol_workflow.domain.errors import Forbidden, InvalidState, ValidationFailed
from gol_workflow.domain.model import Actor
from gol_workflow.persistence.sealing import opened
from gol_workflow.persistence.tables import audit_events
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.administration import operations
from gol_workflow.services.administration.instance_queries import instance_detail
from tests.conftest import ADMIN

from .conftest import complete, header, open_task, start


def audit(rt, action: str) -> list[dict]:
    with rt.uow(write=False) as uow:
        stmt = select(audit_events).where(audit_events.c.action == action).order_by(audit_events.c.id)
        return opened(uow.conn, uow.conn.execute(stmt).mappings().all())


def test_operations_report_how_they_went_without_raising(admin_rt) -> None:
    instance_id = start(admin_rt)
    suspended = operations.run_operation(admin_rt, ADMIN, "suspend", instance_id, {"reason": "verifica"})
    assert suspended.ok and header(admin_rt, instance_id)["status"] == "suspended"
    again = operations.run_operation(admin_rt, ADMIN, "suspend", instance_id, {"reason": "verifica"})
    assert (again.ok, again.code) == (False, "invalid_state") and "cannot be suspended" in again.message
    assert operations.run_operation(admin_rt, ADMIN, "retry", instance_id, {}).code == "invalid_state"
    assert operations.run_operation(admin_rt, ADMIN, "resume", instance_id, {}).ok
    missing = operations.run_operation(admin_rt, ADMIN, "terminate", "no-such-instance", {"reason": "x"})
    assert missing.code == "not_found"
    assert audit(admin_rt, "instance.suspended")[0]["data"] == {"reason": "verifica"}


def test_editing_the_data_of_a_suspended_instance_is_audited_with_before_and_after(admin_rt) -> None:
    instance_id = start(admin_rt)
    complete(admin_rt, instance_id, "raccolta", {"divisore": 0})  # fails: division by zero
    assert header(admin_rt, instance_id)["status"] == "error"
    with pytest.raises(InvalidState):
        operations.edit_data(admin_rt, ADMIN, instance_id, {"divisore": 5}, "correzione")
    instance_service.suspend(admin_rt, instance_id, ADMIN, "correzione del divisore")

    current = instance_detail(admin_rt, ADMIN, instance_id, reveal=True).data
    edited = {**current, "divisore": 5, "beneficiario": {**current["beneficiario"], "nome": "Laura Maria"}}
    assert operations.edit_data(admin_rt, ADMIN, instance_id, edited, "divisore sbagliato") == ["beneficiario", "divisore"]
    row = header(admin_rt, instance_id)
    assert row["status"] == "suspended" and row["beneficiary_name"] == "Laura Maria Bianchi"
    (event,) = audit(admin_rt, "instance.data_edited")
    assert event["data"]["before"]["divisore"] == 0 and event["data"]["after"]["divisore"] == 5
    assert event["data"]["reason"] == "divisore sbagliato" and event["actor"] == "admin"

    instance_service.resume(admin_rt, instance_id, ADMIN)
    instance_service.retry(admin_rt, instance_id, ADMIN)
    assert header(admin_rt, instance_id)["status"] == "waiting"  # 100 / 5 ran, now waiting 12 months


def test_bad_edits_are_refused_and_change_nothing(admin_rt) -> None:
    instance_id = start(admin_rt)
    instance_service.suspend(admin_rt, instance_id, ADMIN, "prova")
    current = instance_detail(admin_rt, ADMIN, instance_id, reveal=True).data
    with pytest.raises(ValidationFailed):
        operations.edit_data(admin_rt, ADMIN, instance_id, current, "nulla cambia")
    with pytest.raises(ValidationFailed):
        operations.edit_data(admin_rt, ADMIN, instance_id, {**current, "case_id": "altro"}, "no")
    with pytest.raises(ValidationFailed):
        operations.edit_data(admin_rt, ADMIN, instance_id, {**current, "x": 1}, "  ")
    with pytest.raises(Forbidden):
        operations.edit_data(admin_rt, Actor("cpi.nord", "cpi", frozenset({"pistoiese"})), instance_id, {}, "no")
    for text in ("[1, 2]", "{not json", '{"1abc": 2}'):
        with pytest.raises(ValidationFailed):
            operations.parse_data(text)
    assert operations.parse_data('{"a": {"b": [1]}}') == {"a": {"b": [1]}}
    assert audit(admin_rt, "instance.data_edited") == []


def test_removing_a_field_and_the_open_task_sees_the_new_data(admin_rt) -> None:
    instance_id = start(admin_rt)
    instance_service.suspend(admin_rt, instance_id, ADMIN, "prova")
    current = instance_detail(admin_rt, ADMIN, instance_id, reveal=True).data
    with pytest.raises(ValidationFailed) as refused:  # a field no form of the process declares
        operations.edit_data(admin_rt, ADMIN, instance_id, {**current, "nota_admin": "spostata"}, "nota")
    assert list(refused.value.errors) == ["changes.nota_admin"]
    edited = {**current, "zona": "valdinievole"}
    operations.edit_data(admin_rt, ADMIN, instance_id, edited, "cambio zona")
    assert header(admin_rt, instance_id)["zone"] == "valdinievole"
    assert open_task(admin_rt, instance_id)["zone"] == "valdinievole"  # the open task follows the zone
    admin_rt.workflows.clear()
    data = instance_detail(admin_rt, ADMIN, instance_id, reveal=True).data
    assert data["zona"] == "valdinievole"
    assert open_task(admin_rt, instance_id)["element_id"] == "raccolta"


def test_a_retry_that_fails_again_is_not_reported_as_done(admin_rt) -> None:
    instance_id = start(admin_rt)
    complete(admin_rt, instance_id, "raccolta", {"divisore": 0})
    outcome = operations.run_operation(admin_rt, ADMIN, "retry", instance_id, {})
    assert (outcome.ok, outcome.code) == (False, "failed_again") and "division by zero" in outcome.message
    assert header(admin_rt, instance_id)["status"] == "error"

"""The admin instance list: filters, counts per status, keyset pages; the detail with masked data and its audit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from gol_workflow.domain.errors import Forbidden, ValidationFailed
from gol_workflow.domain.model import Actor
from gol_workflow.persistence.sealing import opened
from gol_workflow.persistence.tables import audit_events
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.administration import instance_queries
from gol_workflow.services.cases.data_masking import MASK
from gol_workflow.services.administration.instance_queries import (
    InstanceFilters,
    PageRequest,
    instance_detail,
    list_instances,
    reveal_task_data,
    reveal_value,
)
from tests.conftest import ADMIN

from .conftest import cf, complete, start


def names(page) -> list[str]:
    return [item.beneficiary_name for item in page.items]


def actions(rt, action: str) -> list[dict]:
    with rt.uow(write=False) as uow:
        return opened(uow.conn, uow.conn.execute(select(audit_events).where(audit_events.c.action == action)).mappings().all())


@pytest.fixture
def population(admin_rt, clock):
    """Five instances: two running (nord, sud), one waiting, one in error, one terminated; a day apart."""
    ids = {}
    for key, zone, nome, code in [("a", "pistoiese", "Anna", "NNAAAA80A41G713"), ("b", "valdinievole", "Bruno", "BRNBBB80A01G713"),
                                  ("c", "pistoiese", "Carla", "CRLCCC80A41G713"), ("d", "pistoiese", "Dario", "DRADDD80A01G713"),
                                  ("e", "valdinievole", "Elena", "LNEEEE80A41G713")]:
        ids[key] = start(admin_rt, zone=zone, nome=nome, cognome="Prova", first15=code)
        clock.advance(timedelta(days=1))
    complete(admin_rt, ids["c"], "raccolta", {"divisore": 4, "note_raccolta": "vive da sola"})
    complete(admin_rt, ids["d"], "raccolta", {"divisore": 0})
    instance_service.terminate(admin_rt, ids["e"], ADMIN, "doppione")
    return ids


def test_filters_and_counts_per_status(admin_rt, population) -> None:
    page = list_instances(admin_rt, ADMIN, InstanceFilters(), PageRequest())
    assert names(page) == ["Elena Prova", "Dario Prova", "Carla Prova", "Bruno Prova", "Anna Prova"]  # newest first
    assert page.total == 5
    assert page.counts == {"running": 2, "waiting": 1, "suspended": 0, "error": 1, "completed": 0, "terminated": 1}
    (listed,) = actions(admin_rt, "instances.listed")  # names of beneficiaries were read: audited
    assert listed["actor"] == "admin" and listed["data"] == {"filters": {}, "shown": 5}

    def only(**kwargs):
        return names(list_instances(admin_rt, ADMIN, InstanceFilters(**kwargs), PageRequest()))

    assert only(statuses=("running",)) == ["Bruno Prova", "Anna Prova"]
    assert actions(admin_rt, "instances.listed")[-1]["data"]["filters"] == {"statuses": ["running"]}
    assert only(zone="valdinievole") == ["Elena Prova", "Bruno Prova"]
    assert only(beneficiary="carl") == ["Carla Prova"]
    assert only(beneficiary=cf("BRNBBB80A01G713").lower()) == ["Bruno Prova"]
    assert only(has_error=True) == ["Dario Prova"]
    assert only(error_element="calcolo") == ["Dario Prova"]
    assert only(process_id="pratica_admin", version=1) == only()
    assert only(process_id="pratica_admin", version=2) == []
    assert only(started_from=date(2026, 1, 6), started_to=date(2026, 1, 7)) == ["Carla Prova", "Bruno Prova"]
    counted = list_instances(admin_rt, ADMIN, InstanceFilters(statuses=("running",), zone="pistoiese"), PageRequest())
    assert counted.total == 1 and counted.counts["waiting"] == 1  # counts ignore the status filter only


def test_keyset_pages_forward_and_back(admin_rt, population) -> None:
    first = list_instances(admin_rt, ADMIN, InstanceFilters(), PageRequest(size=2))
    assert names(first) == ["Elena Prova", "Dario Prova"] and first.prev_cursor is None
    second = list_instances(admin_rt, ADMIN, InstanceFilters(), PageRequest(size=2, after=first.next_cursor))
    assert names(second) == ["Carla Prova", "Bruno Prova"]
    third = list_instances(admin_rt, ADMIN, InstanceFilters(), PageRequest(size=2, after=second.next_cursor))
    assert names(third) == ["Anna Prova"] and third.next_cursor is None
    back = list_instances(admin_rt, ADMIN, InstanceFilters(), PageRequest(size=2, before=third.prev_cursor))
    assert names(back) == ["Carla Prova", "Bruno Prova"]
    assert back.prev_cursor is not None and back.next_cursor is not None
    start_again = list_instances(admin_rt, ADMIN, InstanceFilters(), PageRequest(size=2, before=back.prev_cursor))
    assert names(start_again) == ["Elena Prova", "Dario Prova"] and start_again.prev_cursor is None
    by_offset = list_instances(admin_rt, ADMIN, InstanceFilters(), PageRequest(size=2, offset=2))
    assert names(by_offset) == ["Carla Prova", "Bruno Prova"]


def test_bad_input_is_a_clear_error_and_others_are_refused(admin_rt, population) -> None:
    with pytest.raises(ValidationFailed):
        list_instances(admin_rt, ADMIN, InstanceFilters(), PageRequest(after="not-a-cursor"))
    with pytest.raises(ValidationFailed):
        list_instances(admin_rt, ADMIN, InstanceFilters(statuses=("dormant",)), PageRequest())
    for role in ("cpi", "sds", "ats", "specialist", "analyst"):
        with pytest.raises(Forbidden):
            list_instances(admin_rt, Actor("x", role, frozenset({"pistoiese"})), InstanceFilters(), PageRequest())
        with pytest.raises(Forbidden):
            instance_detail(admin_rt, Actor("x", role, frozenset({"pistoiese"})), population["a"])


def test_detail_masks_sensitive_data_and_audits_every_read_and_opening(admin_rt, population) -> None:
    detail = instance_detail(admin_rt, ADMIN, population["c"])
    assert detail.summary.status == "waiting" and detail.summary.version == 1
    assert detail.element_states["raccolta"] == "COMPLETED" and detail.element_states["attesa_un_anno"] == "WAITING"
    (timer,) = detail.waiting
    assert timer.element_id == "attesa_un_anno" and timer.kind == "timer"
    assert timer.due_at == detail.summary.next_due_at
    assert detail.data["beneficiario"] == MASK and detail.data["note_raccolta"] == MASK
    assert detail.data["divisore"] == 4 and detail.data["zona"] == "pistoiese"
    (record,) = detail.history
    assert record.task == "Raccolta dati" and record.actor == "admin"
    assert record.data == {"divisore": 4, "note_raccolta": MASK}
    assert 'id="pratica_admin"' in (detail.diagram or "")
    assert {"suspend", "terminate"} <= detail.operations and "migrate" not in detail.operations
    assert [e["actor"] for e in actions(admin_rt, "instance.inspected")] == ["admin"]

    assert reveal_value(admin_rt, ADMIN, population["c"], "note_raccolta") == "vive da sola"
    assert reveal_task_data(admin_rt, ADMIN, population["c"], record.event_id)["note_raccolta"] == "vive da sola"
    opened = actions(admin_rt, "instance.data_revealed")
    assert [e["data"].get("campi") for e in opened] == [["note_raccolta"], ["note_raccolta"]]
    assert all(e["data"]["lettura_amministrativa"] for e in opened)


def test_detail_of_a_failed_instance_marks_the_failed_element(admin_rt, population) -> None:
    detail = instance_detail(admin_rt, ADMIN, population["d"])
    assert detail.error is not None and detail.error["element_id"] == "calcolo"
    assert "division by zero" in detail.error["message"]
    assert detail.element_states["calcolo"] == "ERROR"
    assert {"retry", "suspend", "terminate"} <= detail.operations


def test_counts_stop_at_the_cap_and_say_so(admin_rt, population, monkeypatch) -> None:
    monkeypatch.setattr(instance_queries, "COUNT_CAP", 1)
    page = list_instances(admin_rt, ADMIN, InstanceFilters(), PageRequest())
    assert page.capped and page.counts["running"] == 2 and page.counts["waiting"] == 1  # 2 reads "more than 1"
    assert len(page.items) == 5
    exact = list_instances(admin_rt, ADMIN, InstanceFilters(), PageRequest(), exact_counts=True)
    assert not exact.capped and exact.total == 5
    errors = list_instances(admin_rt, ADMIN, InstanceFilters(has_error=True), PageRequest())
    assert errors.counts["error"] == 1 and errors.counts["completed"] == 0


@pytest.mark.parametrize("cap", [10, 2])
def test_a_part_of_a_name_pages_the_same_whether_every_match_was_counted_or_not(admin_rt, population, monkeypatch,
                                                                                  cap) -> None:
    # cap 10: the five matches were all counted, the page is the newest of them; cap 2: a search of its own.
    monkeypatch.setattr(instance_queries, "COUNT_CAP", cap)

    def pages(**kwargs):
        return list_instances(admin_rt, ADMIN, InstanceFilters(beneficiary="prova"), PageRequest(size=2, **kwargs))

    first = pages()
    assert names(first) == ["Elena Prova", "Dario Prova"] and first.prev_cursor is None
    second = pages(after=first.next_cursor)
    assert names(second) == ["Carla Prova", "Bruno Prova"]
    assert names(pages(after=second.next_cursor)) == ["Anna Prova"]
    assert names(pages(before=second.prev_cursor)) == ["Elena Prova", "Dario Prova"]
    assert names(pages(offset=2)) == ["Carla Prova", "Bruno Prova"]
    running = list_instances(admin_rt, ADMIN, InstanceFilters(beneficiary="prova", statuses=("running",)),
                             PageRequest())
    assert names(running) == ["Bruno Prova", "Anna Prova"]
    if cap == 10:  # every match counted: exact (with cap 2 PostgreSQL counts the first 3 only)
        assert running.counts["terminated"] == 1 and running.total == 2 and not running.capped
    assert names(list_instances(admin_rt, ADMIN, InstanceFilters(beneficiary="nessuno"), PageRequest())) == []


def test_the_process_filter_lists_a_version_deployed_after_it_was_read(admin_rt, population) -> None:
    page = list_instances(admin_rt, ADMIN, InstanceFilters(), PageRequest())
    (choice,) = instance_queries.process_choices(admin_rt, ADMIN, page.newest_version)
    assert [number for _, number in choice.versions] == [1]
    with admin_rt.db.engine.begin() as conn:  # as another worker's deploy: this one's cache is not told
        conn.exec_driver_sql(
            "INSERT INTO process_versions (process_id, version, name, content_hash, main_file, files, deployed_by, deployed_at) "
            "SELECT process_id, 2, name, content_hash, main_file, files, deployed_by, deployed_at FROM process_versions "
            "WHERE process_id = 'pratica_admin' AND version = 1")
    later = list_instances(admin_rt, ADMIN, InstanceFilters(), PageRequest())
    assert later.newest_version != page.newest_version
    (choice,) = instance_queries.process_choices(admin_rt, ADMIN, later.newest_version)
    assert [number for _, number in choice.versions] == [2, 1]
    assert names(list_instances(admin_rt, ADMIN, InstanceFilters(process_id="pratica_admin", version=2),
                                PageRequest())) == []

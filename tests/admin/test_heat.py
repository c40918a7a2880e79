"""The heat of a process version: cases at each element now, median and p90 time in each user task over a
period, the cases at one element; from the inbox, the instances and the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gol_workflow.domain.errors import Forbidden, InputRefused, NotFound
from gol_workflow.services.administration import heat
from gol_workflow.services.workflow import instances as instance_service
from tests.conftest import ADMIN

from .conftest import OPERATOR, complete, deploy_xml, original_xml, start
from .test_migration import with_added_task

HOUR = 3600.0


@pytest.fixture
def spread(admin_rt, clock):
    """Five cases: two wait at "Raccolta dati", one has failed in "Calcolo", two wait a year at the timer
    after "Raccolta dati" took them 1 and 3 hours."""
    ids = [start(admin_rt, nome=f"C{n}", first15=f"RRRRRR80A{n + 1:02d}G713") for n in range(5)]
    clock.advance(timedelta(hours=1))
    complete(admin_rt, ids[0], "raccolta", {"divisore": 4})
    clock.advance(timedelta(hours=2))
    complete(admin_rt, ids[1], "raccolta", {"divisore": 4})
    complete(admin_rt, ids[2], "raccolta", {"divisore": 0})
    return ids


def by_element(result: heat.Heat) -> dict[str, heat.ElementHeat]:
    return {e.element_id: e for e in result.elements}


def test_cases_now_and_time_spent_per_element(admin_rt, spread, clock) -> None:
    result = heat.heat_of(admin_rt, ADMIN, "pratica_admin", 1)
    elements = by_element(result)
    assert (elements["raccolta"].waiting, elements["raccolta"].tasks) == (2, 2)
    assert (elements["attesa_un_anno"].waiting, elements["attesa_un_anno"].events) == (2, 2)
    assert (elements["calcolo"].waiting, elements["calcolo"].errors) == (1, 1)
    raccolta = elements["raccolta"]
    assert raccolta.completed == 3  # the failed one's task was completed too
    assert raccolta.p50_seconds == pytest.approx(3 * HOUR)
    assert raccolta.p90_seconds == pytest.approx(3 * HOUR)
    assert raccolta.name == "Raccolta dati" and result.elements[0].waiting == 2
    earlier = heat.heat_of(admin_rt, ADMIN, "pratica_admin", 1, clock.now() - timedelta(days=60),
                           clock.now() - timedelta(days=30))
    assert by_element(earlier)["raccolta"].completed == 0  # nothing ended in that period


def test_the_cases_at_one_element(admin_rt, spread) -> None:
    name, at_task = heat.cases_at(admin_rt, ADMIN, "pratica_admin", 1, "raccolta")
    assert name == "Raccolta dati"
    assert sorted(c.instance_id for c in at_task) == sorted(spread[3:])
    _, at_timer = heat.cases_at(admin_rt, ADMIN, "pratica_admin", 1, "attesa_un_anno")
    assert sorted(c.instance_id for c in at_timer) == sorted(spread[:2])
    assert [c.instance_id for c in heat.cases_at(admin_rt, ADMIN, "pratica_admin", 1, "calcolo")[1]] == [spread[2]]


def test_refusals(admin_rt, spread, clock) -> None:
    with pytest.raises(Forbidden):
        heat.heat_of(admin_rt, OPERATOR, "pratica_admin", 1)
    with pytest.raises(NotFound):
        heat.heat_of(admin_rt, ADMIN, "pratica_admin", 9)
    with pytest.raises(NotFound):
        heat.cases_at(admin_rt, ADMIN, "pratica_admin", 1, "nessuno")
    with pytest.raises(InputRefused):
        heat.heat_of(admin_rt, ADMIN, "pratica_admin", 1, clock.now(), clock.now() - timedelta(days=1))


def test_the_map_page_with_its_table_and_the_cases_at_a_step(admin_rt, spread, login) -> None:
    admin = login("admin")
    assert "/admin/processi/pratica_admin/versioni/1/mappa" in admin.text("/admin/processi/pratica_admin")
    page = admin.text("/admin/processi/pratica_admin/versioni/1/mappa")
    assert 'data-calore' in page and 'id="tabella-calore"' in page
    row = page[page.index('<tr data-elemento="raccolta">'):]
    row = row[:row.index("</tr>")]
    assert ">2<" in row and "2 / 0 / 0" in row and "3 h" in row  # two open tasks now; 3 hours median
    cases = admin.get("/admin/processi/pratica_admin/versioni/1/mappa/raccolta",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in cases and cases.count("/admin/istanze/") == 2 and "Raccolta dati" in cases
    wrong = admin.get("/admin/processi/pratica_admin/versioni/1/mappa?da=2026-02-01&a=2026-01-01")
    assert wrong.status_code == 400 and "viene dopo" in wrong.get_data(as_text=True)
    assert admin.get("/admin/processi/pratica_admin/versioni/7/mappa").status_code == 404


def test_beyond_the_sample_size_the_times_come_from_an_even_sample(admin_rt, spread, monkeypatch) -> None:
    monkeypatch.setattr(heat, "SAMPLE", 1)  # three completions of "Raccolta dati": one in three is read
    raccolta = by_element(heat.heat_of(admin_rt, ADMIN, "pratica_admin", 1))["raccolta"]
    with admin_rt.uow(write=False) as uow:
        ids = [e["id"] for i in spread[:3] for e in uow.instance_search.audit_trail(i, 50, "task.completed")]
    read = [i for i in ids if i % 3 == 0]
    assert raccolta.estimated and raccolta.completed == 3 * len(read)
    assert raccolta.p50_seconds in ((HOUR, 3 * HOUR) if read else (None,))


def test_a_suspended_case_is_counted_once_where_it_stands(admin_rt, spread) -> None:
    instance_service.suspend(admin_rt, spread[3], ADMIN, "verifica")  # at its open task
    instance_service.suspend(admin_rt, spread[0], ADMIN, "verifica")  # at the timer
    elements = by_element(heat.heat_of(admin_rt, ADMIN, "pratica_admin", 1))
    assert (elements["raccolta"].waiting, elements["attesa_un_anno"].waiting) == (2, 2)


def test_another_version_s_cases_and_tasks_are_not_counted(admin_rt, spread, clock) -> None:
    deploy_xml(admin_rt, with_added_task(original_xml()))
    newer = start(admin_rt, nome="Nuova", first15="NVOCSO80A01G713")  # on version 2
    clock.advance(timedelta(hours=10))
    complete(admin_rt, newer, "raccolta", {"divisore": 4})
    old = by_element(heat.heat_of(admin_rt, ADMIN, "pratica_admin", 1))["raccolta"]
    assert (old.waiting, old.completed, old.p90_seconds) == (2, 3, pytest.approx(3 * HOUR))
    new = by_element(heat.heat_of(admin_rt, ADMIN, "pratica_admin", 2))["raccolta"]
    assert (new.waiting, new.completed, new.p50_seconds) == (0, 1, pytest.approx(10 * HOUR))
    start(admin_rt, nome="Altra", first15="LTRCSO80A01G713")  # an open task on version 2
    assert by_element(heat.heat_of(admin_rt, ADMIN, "pratica_admin", 1))["raccolta"].tasks == 2
    assert by_element(heat.heat_of(admin_rt, ADMIN, "pratica_admin", 2))["raccolta"].tasks == 1

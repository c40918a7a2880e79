"""The case list page `/casi`: every case one may see, with or without a task; filters, links, audit, narrow screens."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from gol_workflow.persistence.tables import audit_events
from gol_workflow.services.cases import case_list
from gol_workflow.services.workflow import instances as instance_service
from tests.conftest import ADMIN, ROOT

from .authorization_world import build_world
from .conftest import actor_of, start_case, valid_cf


def rows(page: str) -> list[str]:
    """Beneficiaries in the order the page lists them."""
    return re.findall(r'<a href="/casi/[0-9a-f-]+" class="fw-semibold">([^<]+)</a>', page)


def test_the_menu_leads_to_the_cases_and_each_row_to_its_case_file(web_runtime, browser) -> None:
    world = build_world(web_runtime)
    person = browser("sds.nord")
    inbox = person.text("/attivita")
    assert 'href="/casi"' in inbox and "<span>Casi</span>" in inbox
    page = person.text("/casi")
    assert "<h1 class=\"mb-2\">Casi</h1>" in page and 'aria-current="page"><span>Casi</span>' in page
    assert sorted(rows(page)) == ["Gino Rossi", "Laura Bianchi"]
    assert f'href="/casi/{world["N2"]}"' in page
    case_file = person.text(f"/casi/{world['N2']}")
    assert '<a href="/casi">Casi</a>' in case_file  # and back


def test_a_case_without_a_ready_task_is_still_listed(web_runtime, browser) -> None:
    closed = start_case(web_runtime, "nord", "Bruno", "Gialli", "GLLBRN70A01G713")
    instance_service.terminate(web_runtime, closed, ADMIN, "trasferito")
    page = browser("cpi.nord").text("/casi?stato=chiuso")
    assert rows(page) == ["Bruno Gialli"] and "Chiuso d&#39;ufficio" in page
    assert rows(browser("cpi.nord").text("/casi?stato=aperto")) == []


def test_filters_by_name_codice_fiscale_step_overdue_and_mine(web_runtime, browser, clock) -> None:
    world = build_world(web_runtime)
    start_case(web_runtime, "nord", "Anna", "Verdi", "VRDNNA90A41G713")
    person = browser("cpi.nord")
    assert rows(person.text("/casi?cerca=verd")) == ["Anna Verdi"]
    assert rows(person.text(f"/casi?cerca={valid_cf('RSSGNI70A01G713')}")) == ["Gino Rossi"]
    page = person.text("/casi?passo=Profilazione")
    assert rows(page) == ["Anna Verdi"] and '<option value="Profilazione" selected>' in page
    assert rows(person.text("/casi?scadute=1")) == []
    clock.set(clock.now() + timedelta(days=4))
    person = browser("cpi.nord")  # four days on, yesterday's session has ended: log in again
    page = person.text("/casi?scadute=1")
    assert rows(page) == ["Anna Verdi"] and "riga-scaduta" in page and "Attività scaduta il" in page
    assert sorted(rows(browser("ats.nord").text("/casi?miei=1"))) == ["Gino Rossi", "Laura Bianchi"]
    assert rows(browser("cpi.sud").text("/casi?zona=nord")) == ["Marco Neri"]  # a foreign zone is ignored
    assert world


def test_sorting_by_name_both_ways(web_runtime, browser) -> None:
    build_world(web_runtime)
    person = browser("admin")
    assert rows(person.text("/casi?ordina=nome&verso=asc")) == ["Gino Rossi", "Laura Bianchi", "Marco Neri"]
    assert rows(person.text("/casi?ordina=nome")) == ["Marco Neri", "Laura Bianchi", "Gino Rossi"]


def test_narrow_screens_get_stacked_cards_with_labelled_cells(web_runtime, browser) -> None:
    build_world(web_runtime)
    page = browser("cpi.nord").text("/casi")
    assert 'class="table table-hover align-middle tabella-impilata"' in page
    assert 'data-label="Beneficiario"' in page and 'data-label="Stato"' in page
    css = (ROOT / "web" / "static" / "css" / "app.css").read_text(encoding="utf-8")
    assert "@media screen and (max-width: 767.98px)" in css and ".tabella-impilata > tbody > tr > td::before" in css
    assert "<script" not in page.split("<main", 1)[1].split("</main>", 1)[0]  # a plain GET form, no script


def test_each_page_load_is_audited_once(web_runtime, browser) -> None:
    build_world(web_runtime)
    browser("spec.nord").text("/casi?cerca=laura")
    with web_runtime.uow(write=False) as uow:
        found = uow.conn.execute(select(audit_events).where(audit_events.c.action == "cases.listed")).mappings().all()
    assert [(r["actor"], r["data"]["casi"], r["data"]["filtri"]["text"]) for r in found] == [("spec.nord", 1, "(testo non registrato)")]


def test_counts_stop_at_the_cap_and_pages_go_on(web_runtime, monkeypatch) -> None:
    for i in range(3):
        start_case(web_runtime, "nord", f"Persona{i}", "Prova", f"PRVPRS80A0{i + 1}G713")
    monkeypatch.setattr(case_list, "COUNT_CAP", 2)
    page = case_list.list_cases(web_runtime, actor_of("cpi.nord"), case_list.CaseQuery(page_size=2))
    assert (page.total, page.exact, len(page.items), page.pages) == (2, False, 2, 2)
    last = case_list.list_cases(web_runtime, actor_of("cpi.nord"), case_list.CaseQuery(page_size=2, page=2))
    assert len(last.items) == 1 and {i["id"] for i in last.items}.isdisjoint({i["id"] for i in page.items})


def test_pages_keep_their_order_whether_or_not_the_count_saw_every_match(web_runtime, monkeypatch) -> None:
    """Below the count's cap the page is sorted out of the counted matches, above it read in order: same pages."""
    for i, name in enumerate(("Carla", "Anna", "Elena", "Bice", "Dora")):
        start_case(web_runtime, "nord", name, "Prova", f"PRVPRS80A0{i + 1}G713")
    operator = actor_of("cpi.nord")

    def every_page(sort: str, descending: bool, text: str | None) -> list[str]:
        found: list[str] = []
        for number in (1, 2, 3):
            page = case_list.list_cases(web_runtime, operator, case_list.CaseQuery(
                text=text, sort=sort, descending=descending, page=number, page_size=2))
            found += [item["beneficiary_name"] for item in page.items]
        return found

    shapes = [(sort, descending, text) for sort in ("name", "updated") for descending in (False, True)
              for text in (None, "prova")]
    all_counted = {shape: every_page(*shape) for shape in shapes}
    monkeypatch.setattr(case_list, "COUNT_CAP", 2)
    assert {shape: every_page(*shape) for shape in shapes} == all_counted
    assert all_counted[("name", False, None)] == ["Anna Prova", "Bice Prova", "Carla Prova", "Dora Prova",
                                                  "Elena Prova"]


def test_the_same_filters_with_other_words_find_other_cases(web_runtime, browser) -> None:
    start_case(web_runtime, "nord", "Anna", "Verdi", "VRDNNA90A41G713")
    start_case(web_runtime, "nord", "Bruno", "Gialli", "GLLBRN70A01G713")
    start_case(web_runtime, "sud", "Carla", "Verdini", "VRDCRL80A41G713")
    person = browser("cpi.nord")
    assert rows(person.text("/casi?cerca=verd")) == ["Anna Verdi"]
    assert rows(person.text("/casi?cerca=gial")) == ["Bruno Gialli"]
    assert rows(browser("cpi.sud").text("/casi?cerca=verd")) == ["Carla Verdini"]  # another zone, its own cases
    page = person.text("/casi?cerca=verd&stato=aperto")
    assert rows(page) == ["Anna Verdi"] and '<span class="badge bg-primary">In corso</span>' in page

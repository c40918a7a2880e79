"""A part of a name in the admin list: anywhere in it with pg_trgm, its beginning without (the documented fallback)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gol_workflow.persistence import instance_search
from gol_workflow.persistence.instance_search import NameSearch
from gol_workflow.services.administration import instance_queries
from gol_workflow.services.administration.instance_queries import InstanceFilters, PageRequest, list_instances
from tests.conftest import ADMIN, on_postgres

from .conftest import start


def _found(rt, text: str) -> list[str]:
    page = list_instances(rt, ADMIN, InstanceFilters(beneficiary=text), PageRequest())
    return [item.beneficiary_name for item in page.items]


@pytest.fixture
def people(admin_rt) -> object:
    start(admin_rt, nome="Marta", cognome="Rossetti", first15="RSSMRT80A41G713")
    start(admin_rt, nome="Piero", cognome="Ambrosini", first15="MBRPRI80A01G713")
    return admin_rt


def test_a_part_of_a_name_is_found_anywhere_in_it(people) -> None:
    with people.uow(write=False) as uow:
        mode = uow.instance_search.names
    assert mode is (NameSearch.TRIGRAM if on_postgres() else NameSearch.SCAN)
    assert _found(people, "ross") == ["Marta Rossetti"]
    assert _found(people, "ROSI") == ["Piero Ambrosini"]
    assert sorted(_found(people, "ros")) == ["Marta Rossetti", "Piero Ambrosini"]


@pytest.fixture
def without_trigrams(people) -> Iterator[object]:
    """The index migration 0023 builds where pg_trgm may not be created: a btree on lower(name)."""
    with people.db.engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_instances_beneficiary_name_trgm")
        conn.exec_driver_sql("CREATE INDEX ix_instances_beneficiary_name_trgm ON instances "
                             "(lower(beneficiary_name) text_pattern_ops)")
    instance_search._NAME_SEARCH.clear()
    try:
        yield people
    finally:
        with people.db.engine.begin() as conn:
            conn.exec_driver_sql("DROP INDEX ix_instances_beneficiary_name_trgm")
            conn.exec_driver_sql("CREATE INDEX ix_instances_beneficiary_name_trgm ON instances "
                                 "USING gin (beneficiary_name gin_trgm_ops)")
        instance_search._NAME_SEARCH.clear()


@pytest.mark.skipif(not on_postgres(), reason="the fallback of a PostgreSQL server without pg_trgm")
def test_without_pg_trgm_a_name_is_found_by_its_beginning_only(without_trigrams) -> None:
    rt = without_trigrams
    with rt.uow(write=False) as uow:
        assert uow.instance_search.names is NameSearch.PREFIX
        uow.conn.exec_driver_sql("SET enable_seqscan = off")  # two rows: only whether the index can serve it
        plan = "\n".join(r[0] for r in uow.conn.exec_driver_sql(
            "EXPLAIN SELECT id FROM instances WHERE lower(beneficiary_name) LIKE 'mar%%'"))
    assert "ix_instances_beneficiary_name_trgm" in plan  # a range on the index, not a pass over the table
    assert _found(rt, "marta") == ["Marta Rossetti"]
    assert _found(rt, "PIERO AMB") == ["Piero Ambrosini"]
    assert _found(rt, "ross") == []  # what the fallback cannot do: a part inside the name


def test_a_common_part_of_a_name_counts_only_the_first_matches(people, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instance_queries, "COUNT_CAP", 2)
    start(people, nome="Rosa", cognome="Rossi", first15="RSSRSO80A41G713")
    page = list_instances(people, ADMIN, InstanceFilters(beneficiary="ros"), PageRequest())
    assert sorted(item.beneficiary_name for item in page.items) == ["Marta Rossetti", "Piero Ambrosini", "Rosa Rossi"]
    if on_postgres():  # the trigram index finds them: counting stops after cap + 1 matches
        assert page.sampled and page.capped and page.total == 3 and sum(page.counts.values()) == 3
    else:  # SQLite reads every row anyway: exact
        assert not page.sampled and page.total == 3
    narrow = list_instances(people, ADMIN, InstanceFilters(beneficiary="rossi"), PageRequest())
    assert not narrow.sampled and not narrow.capped and narrow.total == 1  # few matches: exact


@pytest.mark.skipif(not on_postgres(), reason="counts stop early only where an index finds the name")
def test_the_page_says_the_counts_are_lower_bounds(people, login, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instance_queries, "COUNT_CAP", 1)
    page = login("admin").text("/admin/istanze?beneficiario=ros")
    assert "Almeno 2 istanze trovate" in page and "almeno 2" in page

"""The indicator catalogue: every entry usable, every label verbatim from the source document it names."""

from __future__ import annotations

import re

import pytest

from gol_workflow.services.indicators import catalogue
from tests.conftest import ROOT

SEEDS = ROOT.parent / "shared" / "seeds"


def test_the_shipped_catalogue_loads_with_known_queries_units_and_targets() -> None:
    found = {i.id: i for i in catalogue.load(ROOT / "processes")}
    assert len(found) == 12
    assert (found["incontri_coordinamento"].target, found["colloqui_congiunti"].target) == (20, 4)
    assert found["prese_in_carico_integrate_anno_su_anno"].unit == "%"
    assert all(i.query in catalogue.QUERIES for i in found.values())


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"source documents not found at {SEEDS}")
def test_every_label_is_verbatim_in_its_source() -> None:
    texts = {p.name[:3]: re.sub(r"\s+", " ", p.read_text(encoding="utf-8")) for p in SEEDS.glob("00*")}
    for ind in catalogue.load(ROOT / "processes"):
        text = texts[ind.source[:3]]
        # a label naming one item of a bulleted list ("... un percorso di: inclusione sociale") is the
        # list's lead-in and the item, each verbatim
        parts = ind.label.split(": ", 1) if ind.label.endswith(("inclusione sociale", "reinserimento lavorativo")) \
            else [ind.label]
        assert all(part in text for part in parts), ind.id


@pytest.mark.parametrize(("text", "message"), [
    ('[[indicator]]\nid = "x"\nlabel = "X"\nsource = "001"\ndefinition = "d"\nquery = "nope"\nunit = "persone"\n',
     "unknown query"),
    ('[[indicator]]\nid = "x"\nlabel = "X"\nsource = "001"\ndefinition = "d"\nquery = "discussed"\nunit = "euro"\n',
     "unknown unit"),
    ('[[indicator]]\nid = "x"\nlabel = "X"\n', "lacks source"),
    ("", "no [[indicator]]"),
])
def test_a_broken_catalogue_is_refused_saying_why(text: str, message: str) -> None:
    with pytest.raises(catalogue.CatalogueError) as refused:
        catalogue.parse(text)
    assert message in refused.value.message

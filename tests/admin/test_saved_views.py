"""Saved views of the instance list: each administrator's own, saved with a name, applied, deleted."""

from __future__ import annotations

import re

import pytest

from gol_workflow.domain.errors import InputRefused, NotFound
from gol_workflow.domain.model import Actor
from gol_workflow.services.administration import saved_views
from tests.conftest import ADMIN

from .conftest import complete, start

OTHER = Actor("admin2", "admin", frozenset())


def test_views_are_saved_per_person_cleaned_replaced_and_deleted(admin_rt) -> None:
    view = saved_views.save_view(admin_rt, ADMIN, "  Valdinievole,  in errore ", "?zona=valdinievole&errore=1&dopo=x&ultimi=7")
    assert view.name == "Valdinievole, in errore" and view.query == "zona=valdinievole&ultimi=7&errore=1"
    assert saved_views.list_views(admin_rt, OTHER) == []
    again = saved_views.save_view(admin_rt, ADMIN, "Valdinievole, in errore", "zona=valdinievole")
    assert again.id == view.id and [v.query for v in saved_views.list_views(admin_rt, ADMIN)] == ["zona=valdinievole"]
    with pytest.raises(NotFound):
        saved_views.delete_view(admin_rt, OTHER, view.id)
    saved_views.delete_view(admin_rt, ADMIN, view.id)
    assert saved_views.list_views(admin_rt, ADMIN) == []
    with pytest.raises(InputRefused):
        saved_views.save_view(admin_rt, ADMIN, "   ", "zona=x")


def test_saving_and_applying_a_view_on_the_list(admin_rt, login, clock) -> None:
    failed = start(admin_rt, zone="pistoiese", nome="Rosa", first15="RRRRRR80A01G713")
    complete(admin_rt, failed, "raccolta", {"divisore": 0})
    start(admin_rt, zone="pistoiese", nome="Gino", first15="RSSGNI70A01G713")
    admin = login("admin")
    saved = admin.post("/admin/viste", {"nome": "Pistoiese in errore, ultimi 7 giorni",
                                        "filtri": "zona=pistoiese&errore=1&ultimi=7"})
    assert saved.status_code == 302 and "ultimi=7" in saved.headers["Location"]
    page = admin.text("/admin/istanze")
    link = re.search(r'data-vista="Pistoiese in errore, ultimi 7 giorni">\s*<a [^>]*href="([^"]+)"', page)
    assert link is not None
    applied = admin.text(link.group(1).replace("&amp;", "&"))
    assert "Rosa" in applied and "Gino" not in applied
    assert 'aria-current="true"' in applied and '<option value="7" selected>' in applied
    view_id = saved_views.list_views(admin_rt, ADMIN)[0].id
    assert admin.post(f"/admin/viste/{view_id}/elimina", {}).status_code == 302
    assert "data-vista=" not in admin.text("/admin/istanze")

"""A closed case moved to the archive tables reads as before: case file, admin console, indicators."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import DBAPIError

from gol_workflow.config import load_settings
from gol_workflow.domain.errors import Forbidden, InputRefused
from gol_workflow.scheduler import Scheduler
from gol_workflow.persistence.tables import archived_audit_events, archived_states, audit_events, instances
from gol_workflow.services.access import tokens
from gol_workflow.services.administration import archive
from gol_workflow.services.data_protection import anonymisation
from gol_workflow.web import create_app
from tests.conftest import ADMIN, on_postgres
from tests.integration.percorso4_support import SARA, Percorso4, add_account, p4, smtp  # noqa: F401 - fixtures
from tests.integration.test_case_file_story import in_order, walk_to_the_end
from tests.integration.test_case_list_percorso4 import logged_in
from tests.web.test_words import visible

YEAR = "from=2026-01-01&to=2026-12-31"


def _api(p4: Percorso4, username: str, url: str) -> Any:
    token = tokens.issue_token(p4.rt, username, ADMIN).secret
    response = create_app(p4.rt, {"TESTING": True}).test_client().get(
        url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _what_is_seen(p4: Percorso4, case: str) -> dict[str, Any]:
    """The case as its operators, an administrator and the indicators see it."""
    body = _api(p4, "cm.rossi", f"/api/v1/cases/{case}")
    indicators = _api(p4, "admin.archivio", f"/api/v1/indicators?zone=pistoiese&{YEAR}")
    admin = logged_in(p4, "admin.archivio")
    by_name = admin.text("/admin/istanze?beneficiario=ialli")
    by_code = admin.text(f"/admin/istanze?beneficiario={SARA['codice_fiscale']}")
    by_zone = admin.text("/admin/istanze?zona=pistoiese&stato=completed&processo=percorso4&versione=1")
    detail = visible(admin.text(f"/admin/istanze/{case}"))
    return {
        "story": [(e["label"], e["detail"], e["author"]) for e in body["story"] if e["step"]],
        "outcome": body["outcome"], "monitorings": body["monitorings"],
        "indicators": {i["id"]: (i["value"], i.get("numerator"), i.get("denominator")) for i in indicators["items"]},
        "waiting": indicators["waiting"],
        "listed": [case in by_name, case in by_code, case in by_zone],
        "detail": ["Monitoraggio finale" in detail, "task.completed" in detail or "Attività completata" in detail],
    }


def _hot_and_cold(p4: Percorso4, case: str) -> tuple[str, int, int, int]:
    with p4.rt.db.engine.connect() as conn:
        state = conn.execute(select(instances.c.state).where(instances.c.id == case)).scalar_one()
        hot = conn.execute(select(func.count()).where(audit_events.c.instance_id == case)).scalar_one()
        cold = conn.execute(select(func.count()).where(archived_audit_events.c.instance_id == case)).scalar_one()
        kept = conn.execute(select(func.length(archived_states.c.state))
                            .where(archived_states.c.instance_id == case)).scalar() or 0
    return state, hot, cold, kept


def test_an_archived_case_reads_as_before_in_the_case_file_the_admin_console_and_the_indicators(p4: Percorso4) -> None:
    add_account(p4.rt, "admin.archivio", "admin", [], "Amministratore Archivio")
    case = walk_to_the_end(p4)
    before = _what_is_seen(p4, case)
    assert before["listed"] == [True, True, True] and all(before["detail"])
    assert before["outcome"] == "in_formazione"
    # One person: the figures are withheld as too few, but the year-on-year count shows the case counted.
    assert before["indicators"]["prese_in_carico_integrate_anno_su_anno"][1] == 1
    state, hot, cold, _ = _hot_and_cold(p4, case)
    assert len(state) > 10_000 and hot > 20 and cold == 0

    # Closed on 14 January 2027: 300 days later only its equipe meetings of 2026 are a year old.
    p4.advance_to(p4.now() + timedelta(days=300))
    meetings = archive.archive_closed(p4.rt, months=12)
    assert meetings.instances >= 2 and _hot_and_cold(p4, case)[:2] == (state, hot)
    p4.advance_to(p4.now() + timedelta(days=100))
    report = archive.archive_closed(p4.rt, months=12, batch_size=1)
    assert report.batches == report.instances >= 1 and report.audit_rows >= hot

    archived_state, hot_after, cold_after, kept = _hot_and_cold(p4, case)
    assert archived_state == "" and hot_after == 0 and cold_after == hot and kept == len(state)

    after = _what_is_seen(p4, case)
    assert after == before
    page = visible(logged_in(p4, "cpi.pistoia").text(f"/casi/{case}"))
    in_order(page, "Storia del caso", "Caso aperto 05/01/2026 ore 08:00 · Carla Pieri",
             "Attività completata: Profilazione e assessment",
             "Modifica sostanziale segnalata: Ha lasciato il tirocinio.",
             "Attività completata: Monitoraggio finale 14/01/2027 ore 00:01 · Carla Pieri")
    # Reads of the archived case are audited in the hot table, and shown with the archived ones.
    assert "Fascicolo consultato da Carla Pieri" in page

    assert archive.archive_closed(p4.rt, months=12).instances == 0  # done once
    assert archive.archive_counts(p4.rt)["instances"] == meetings.instances + report.instances


def test_only_administrators_archive_and_the_window_must_make_sense(p4: Percorso4) -> None:
    operator = add_account(p4.rt, "cpi.archivio", "cpi", ["pistoiese"], "Operatore")
    with pytest.raises(Forbidden):
        archive.archive_closed(p4.rt, months=12, actor=operator)
    with pytest.raises(InputRefused):
        archive.archive_closed(p4.rt, months=-1)
    with pytest.raises(InputRefused):
        archive.archive_closed(p4.rt, months=12, batch_size=0)


@pytest.mark.skipif(not on_postgres(), reason="the database's own guard on the audit log")
def test_the_database_lets_an_audit_row_leave_only_for_the_archive(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", SARA)
    with p4.rt.db.engine.connect() as conn:
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(delete(audit_events).where(audit_events.c.instance_id == case))
        conn.rollback()
        copied = insert(archived_audit_events).from_select(
            [c.name for c in audit_events.c], select(audit_events).where(audit_events.c.instance_id == case))
        conn.execute(copied)
        assert conn.execute(delete(audit_events).where(audit_events.c.instance_id == case)).rowcount >= 1
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(delete(archived_audit_events).where(archived_audit_events.c.instance_id == case))
        conn.rollback()


def test_the_scheduler_archives_when_told_how_long_after_closure(p4: Percorso4) -> None:
    case = walk_to_the_end(p4)
    idle = Scheduler(p4.rt)
    assert idle.archive() == 0  # GOL_ARCHIVE_AFTER_MONTHS unset: the scheduler leaves closed cases alone
    p4.advance_to(p4.now() + timedelta(days=400))
    p4.rt.settings = p4.rt.settings.with_overrides(archive_after_months=12)
    assert Scheduler(p4.rt).archive() >= 1
    assert _hot_and_cold(p4, case)[:2] == ("", 0)
    assert load_settings({"GOL_ARCHIVE_AFTER_MONTHS": "18"}).archive_after_months == 18
    assert load_settings({}).archive_after_months is None


def test_a_case_archived_before_its_retention_period_ends_is_anonymised_in_the_archive_too(p4: Percorso4) -> None:
    case = walk_to_the_end(p4)
    p4.advance_to(p4.now() + timedelta(days=400))
    archive.archive_closed(p4.rt, months=12)
    state, _, _, kept = _hot_and_cold(p4, case)
    assert state == "" and kept > 10_000
    with p4.rt.uow() as uow:
        assert SARA["codice_fiscale"] in uow.retention.instance_state(case)[0]  # the archived state, read back
        anonymisation.anonymise_case(uow, uow.retention.case_for_update(case), p4.now(), "system", None)
        uow.commit()
    with p4.rt.db.engine.connect() as conn:
        archived = conn.execute(select(archived_states.c.state).where(archived_states.c.instance_id == case)).scalar_one()
    with p4.rt.uow() as uow:
        text = uow.retention.instance_state(case)[0]
    assert archived and text and SARA["codice_fiscale"] not in text and "Gialli" not in text
    assert _what_is_seen_after_anonymisation(p4, case)


def _what_is_seen_after_anonymisation(p4: Percorso4, case: str) -> bool:
    body = _api(p4, "cm.rossi", f"/api/v1/cases/{case}")
    return body["outcome"] == "in_formazione" and SARA["codice_fiscale"] not in str(body)

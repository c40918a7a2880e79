"""Incidents from error to resolution: opened by the failing step, counted on each failed retry, repaired from
the incident (retry, correct the data and retry, skip), grouped alike, commented, taken, closed."""

from __future__ import annotations

import re

import pytest

from gol_workflow.domain.errors import EditRefused, IncidentClosed, NotInError, StillInError
from gol_workflow.domain.model import Actor
from gol_workflow.services.administration import incident_desk
from gol_workflow.services.workflow import instances as instance_service
from tests.conftest import ADMIN

from .conftest import complete, header, start

SECOND_ADMIN = Actor("admin2", "admin", frozenset())


def failing(rt, n: int = 1) -> list[str]:
    """Instances stopped by a division by zero in "Calcolo della quota"."""
    ids = [start(rt, nome=f"E{k}", first15=f"RRRRRR80A{k + 1:02d}G713") for k in range(n)]
    for instance_id in ids:
        complete(rt, instance_id, "raccolta", {"divisore": 0})
    return ids


def only_incident(rt, instance_id: str, status: str = "open") -> incident_desk.Incident:
    page = incident_desk.list_incidents(rt, ADMIN, status)
    found = [i for i in page.items if i.instance_id == instance_id]
    assert len(found) == 1, page.items
    return found[0]


def test_an_error_opens_an_incident_in_plain_italian_with_its_technical_detail(admin_rt) -> None:
    [instance_id] = failing(admin_rt)
    incident = only_incident(admin_rt, instance_id)
    assert incident.element_id == "calcolo" and incident.element_name == "Calcolo della quota"
    assert incident.kind == "arithmetic"  # from ZeroDivisionError's type, not from its message
    assert "divisione per zero" in incident.explanation
    assert "division by zero" in incident.message and incident.detail["exception"] == "ZeroDivisionError"
    assert incident.attempts == 1 and incident.status == "open" and incident.assignee is None
    assert set(incident.actions) >= {"retry", "skip", "edit_and_retry", "assign", "comment"}


def test_a_failed_retry_counts_an_attempt_and_a_correction_resolves_it(admin_rt) -> None:
    [instance_id] = failing(admin_rt)
    incident_id = only_incident(admin_rt, instance_id).id
    assert incident_desk.retry(admin_rt, ADMIN, incident_id) is False
    assert incident_desk.get_incident(admin_rt, ADMIN, incident_id).attempts == 2
    with pytest.raises(StillInError):
        incident_desk.resolve(admin_rt, ADMIN, incident_id, "fatto")  # still failing: not closed by hand
    with pytest.raises(EditRefused) as refused:  # the correction is checked like any data edit: types, known fields
        incident_desk.edit_and_retry(admin_rt, ADMIN, incident_id, {"divisore": "quattro", "nuovo": 1}, "corretto")
    assert set(refused.value.errors) == {"changes.divisore", "changes.nuovo"}
    assert incident_desk.get_incident(admin_rt, ADMIN, incident_id).status == "open"
    assert incident_desk.edit_and_retry(admin_rt, ADMIN, incident_id, {"divisore": 4}, "divisore corretto") is True
    row = header(admin_rt, instance_id)
    assert row["status"] == "waiting" and row["error"] is None
    done = incident_desk.get_incident(admin_rt, ADMIN, incident_id)
    assert (done.status, done.resolution, done.resolved_by, done.resolution_note) == (
        "resolved", "edited", ADMIN.username, "divisore corretto")
    assert done.actions == ["comment"]
    with pytest.raises(IncidentClosed):
        incident_desk.retry(admin_rt, ADMIN, incident_id)
    with admin_rt.uow(write=False) as uow:
        trail = [dict(e) for e in uow.instance_search.audit_trail(instance_id, 50)]
    edit = next(e for e in trail if e["action"] == "incident.edited_and_retried")
    assert edit["data"]["before"] == {"divisore": 0} and edit["data"]["after"] == {"divisore": 4}


def test_skipping_the_failed_step_goes_on_and_records_who_and_why(admin_rt) -> None:
    [instance_id] = failing(admin_rt)
    incident_id = only_incident(admin_rt, instance_id).id
    assert incident_desk.skip(admin_rt, ADMIN, incident_id, "quota calcolata a mano") is True
    assert header(admin_rt, instance_id)["status"] == "waiting"
    done = incident_desk.get_incident(admin_rt, ADMIN, incident_id)
    assert done.resolution == "skipped" and done.resolution_note == "quota calcolata a mano"
    with admin_rt.uow(write=False) as uow:
        trail = [dict(e) for e in uow.instance_search.audit_trail(instance_id, 50)]
    skipped = next(e for e in trail if e["action"] == "incident.skipped")
    assert skipped["actor"] == ADMIN.username and skipped["data"]["reason"] == "quota calcolata a mano"


def test_a_retry_from_the_instance_and_a_termination_resolve_the_incident_too(admin_rt) -> None:
    first, second = failing(admin_rt, 2)
    complete_fix = only_incident(admin_rt, first).id
    instance_service.terminate(admin_rt, first, ADMIN, "pratica annullata")
    closed = incident_desk.get_incident(admin_rt, ADMIN, complete_fix)
    assert closed.status == "resolved" and closed.resolution == "terminated"
    instance_service.suspend(admin_rt, second, ADMIN, "verifica")  # suspended in error: still open
    assert only_incident(admin_rt, second).status == "open"


def test_alike_incidents_are_grouped_and_retried_together(admin_rt) -> None:
    ids = failing(admin_rt, 3)
    groups = incident_desk.incident_groups(admin_rt, ADMIN)
    assert len(groups) == 1 and groups[0].count == 3 and groups[0].element_id == "calcolo"
    group = groups[0]
    outcome = incident_desk.act_on_group(admin_rt, ADMIN, group.process_version_id, group.element_id, group.kind,
                                         "skip", "quote calcolate a mano")
    assert len(outcome.done) == 3 and not outcome.failed
    assert all(header(admin_rt, i)["status"] == "waiting" for i in ids)
    assert incident_desk.incident_groups(admin_rt, ADMIN) == []
    assert incident_desk.list_incidents(admin_rt, ADMIN, "resolved").total == 3


def test_who_is_looking_and_comments(admin_rt) -> None:
    [instance_id] = failing(admin_rt)
    incident_id = only_incident(admin_rt, instance_id).id
    incident_desk.assign(admin_rt, SECOND_ADMIN, incident_id)
    incident_desk.comment(admin_rt, SECOND_ADMIN, incident_id, "Chiedo al CPI il divisore giusto")
    seen = incident_desk.get_incident(admin_rt, ADMIN, incident_id)
    assert seen.assignee == "admin2" and [c["text"] for c in seen.comments] == ["Chiedo al CPI il divisore giusto"]
    assert incident_desk.list_incidents(admin_rt, ADMIN, "open", assignee="admin2").total == 1
    incident_desk.assign(admin_rt, SECOND_ADMIN, incident_id, to_me=False)
    assert incident_desk.get_incident(admin_rt, ADMIN, incident_id).assignee is None


def test_retrying_an_instance_no_longer_in_error_is_refused(admin_rt) -> None:
    [instance_id] = failing(admin_rt)
    incident_id = only_incident(admin_rt, instance_id).id
    instance_service.suspend(admin_rt, instance_id, ADMIN, "verifica")
    with pytest.raises(NotInError):
        incident_desk.skip(admin_rt, ADMIN, incident_id, "motivo")
    assert header(admin_rt, instance_id)["status"] == "suspended"


def test_a_repair_from_the_incident_page_in_two_steps(admin_rt, login) -> None:
    [instance_id] = failing(admin_rt)
    admin = login("admin")
    listing = admin.text("/admin/errori")
    assert "divisione per zero" in listing and "<details" in listing and "Errori simili" in listing
    link = re.search(r'href="(/admin/errori/\d+)"', listing)
    assert link is not None
    page = admin.text(link.group(1))  # step 1: open the incident
    assert "Calcolo della quota" in page and "Dettaglio tecnico" in page and "division by zero" in page
    assert f"/admin/istanze/{instance_id}" in page
    done = admin.post(link.group(1) + "/correggi", {"dati": '{"divisore": 5}', "motivo": "corretto"})  # step 2
    assert done.status_code == 302
    after = admin.text(link.group(1))
    assert 'data-stato="resolved"' in after and "dati corretti e passo ripetuto" in after
    assert header(admin_rt, instance_id)["status"] == "waiting"
    refused = admin.post(link.group(1) + "/correggi", {"dati": "{", "motivo": "x"}, follow_redirects=True)
    assert "JSON valido" in refused.get_data(as_text=True)

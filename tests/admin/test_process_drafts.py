"""Drafts from the modeler: a note is needed, the service checks them, shows the impact, deploys them with the note."""

from __future__ import annotations

import dataclasses

import pytest

from gol_workflow.domain.errors import DeploymentFailed, InputRefused
from gol_workflow.domain.model import Actor
from gol_workflow.services.administration import process_drafts, version_history
from gol_workflow.services.workflow.runtime import Runtime

from .conftest import ADMIN_DATA, original_xml, start
from .test_migration import with_added_task

ANALYST = Actor(username="analista", role="analyst")
# A task naming a form the forms folder does not hold: refused (a task naming no form only warns).
WITHOUT_FORM = original_xml().replace('value="raccolta.schema.json"', 'value="mancante.schema.json"')


@pytest.fixture(autouse=True)
def _forms(admin_rt: Runtime) -> None:
    """The forms folder holds the test process's forms (a draft may name one no version uses yet)."""
    admin_rt.settings = dataclasses.replace(admin_rt.settings, forms_dir=ADMIN_DATA / "forms")


def test_a_draft_needs_a_note_and_deploys_nothing(admin_rt: Runtime) -> None:
    with pytest.raises(InputRefused):
        process_drafts.save(admin_rt, ANALYST, "pratica_admin", original_xml(), "  ")
    draft = process_drafts.save(admin_rt, ANALYST, "pratica_admin", with_added_task(original_xml()), "Un controllo")
    xml, row = process_drafts.current_diagram(admin_rt, ANALYST, "pratica_admin")
    assert row is not None and row["id"] == draft and row["note"] == "Un controllo" and "controllo" in xml
    with admin_rt.uow(write=False) as uow:
        assert uow.versions.latest("pratica_admin")["version"] == 1


def test_the_service_checks_a_diagram_as_drawn(admin_rt: Runtime) -> None:
    assert WITHOUT_FORM != original_xml()
    problems = process_drafts.check(admin_rt, ANALYST, "pratica_admin", WITHOUT_FORM)
    assert [(p.element, p.message) for p in problems] == [
        ("raccolta", "form mancante.schema.json does not exist in the forms folder")]
    assert process_drafts.check(admin_rt, ANALYST, "pratica_admin", original_xml()) == []


def test_the_impact_counts_running_cases_and_those_that_can_migrate_then_the_draft_deploys(admin_rt: Runtime) -> None:
    start(admin_rt)
    start(admin_rt, nome="Gino", cognome="Rossi", first15="RSSGNI70A01G713")
    draft = process_drafts.save(admin_rt, ANALYST, "pratica_admin", with_added_task(original_xml()), "Un controllo")
    [impact] = process_drafts.impact(admin_rt, ANALYST, "pratica_admin", draft)
    assert (impact.version, impact.running, impact.migratable, impact.checked) == (1, 2, 2, 2)
    report = process_drafts.publish(admin_rt, ANALYST, "pratica_admin", draft)
    assert [(p.version, p.changed) for p in report.processes] == [(2, True)]
    newest = version_history.history(admin_rt, ANALYST, "pratica_admin")[0]
    assert (newest.version, newest.note, newest.author, newest.running) == (2, "Un controllo", "analista", 0)
    assert newest.added and not newest.removed


def test_a_draft_with_problems_is_neither_weighed_nor_deployed(admin_rt: Runtime) -> None:
    draft = process_drafts.save(admin_rt, ANALYST, "pratica_admin", WITHOUT_FORM, "Senza modulo")
    with pytest.raises(DeploymentFailed):
        process_drafts.impact(admin_rt, ANALYST, "pratica_admin", draft)
    with pytest.raises(DeploymentFailed):
        process_drafts.publish(admin_rt, ANALYST, "pratica_admin", draft)

"""schemathesis against /api/openapi.json: no 500, and every response matches the document.

Each operation gets a bounded number of generated requests (valid and invalid ones) with an
administrator's token on a seeded database: once with random ids, once with the ids of real
objects, so both the refusals and the real code paths are exercised.
"""

from __future__ import annotations

from datetime import UTC, datetime

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode

from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.administration.instance_queries import InstanceFilters
from gol_workflow.services.administration import batch
from gol_workflow.services.meetings import equipe
from gol_workflow.services.access import tokens
from gol_workflow.services.workflow import tasks as task_service
from tests.admin.conftest import complete, deploy_xml, original_xml, start
from tests.conftest import ADMIN, DATA, deploy_dir
from tests.web.conftest import actor_of, ready, start_case

MAX_EXAMPLES = 20
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance", "negative_data_rejection"]


def _seed(rt) -> dict[str, str]:
    """Cases in both zones at different steps, one in error, one waiting 12 months, one waiting for a message."""
    deploy_dir(rt, DATA / "processes", DATA / "forms")
    deploy_xml(rt, original_xml())
    case_id = start_case(rt, "nord")
    profile = {"bisogni_particolari": True, "servizi_specialistici": ["salute_mentale"], "case_manager": "ats.nord",
               "data_colloquio": "2026-01-07"}
    task_service.complete_task(rt, ready(rt, case_id)[0]["id"], profile, actor_of("cpi.nord"))
    other = start_case(rt, "sud", "Marco", "Neri", "NRIMRC80A01G713")
    failed = start(rt)
    complete(rt, failed, "raccolta", {"divisore": 0})
    timer = start(rt, "nord", "Gino", "Rossi", "RSSGNI70A01G713")
    complete(rt, timer, "raccolta", {"divisore": 4})
    instance_service.start_instance(rt, "message_wait", {"zona": "nord"}, ADMIN).instance_id
    equipe.plan_meetings(rt)
    with rt.uow() as uow:
        meeting = uow.meetings.between("nord", rt.now(), None, 1)[0]["id"]
        uow.meetings.add_to_agenda({"meeting_id": meeting, "case_id": case_id, "reason": "prima_valutazione",
                                    "added_at": datetime(2026, 1, 5, 8, tzinfo=UTC),
                                    "item": {"case_id": case_id, "beneficiario": {"nome": "Laura", "cognome": "Bianchi"},
                                             "servizi_specialistici": ["salute_mentale"]}})
        uow.commit()
    queued = batch.start_batch(rt, ADMIN, "suspend", InstanceFilters(zone="sud"), reason="verifica")
    return {"instance_id": timer, "task_id": ready(rt, other)[0]["id"], "zone": "nord", "batch_id": queued}


def _schema(app, rt):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    schema.config.update(headers={"Authorization": f"Bearer {tokens.issue_token(rt, 'admin', ADMIN).secret}"})
    schema.config.checks.update(included_check_names=CHECKS)
    return schema


def _fixed(operation, ids: dict[str, str] | None) -> dict[str, str] | None:
    names = re.findall(r"{(\w+)}", operation.path)
    return {name: ids[name] for name in names if name in ids} if ids else None


def _fuzz(schema, ids: dict[str, str] | None) -> dict[str, str]:
    """Run every operation with valid and invalid generated requests; returns the failures by operation."""
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=_fixed(operation, ids))

            @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def run(case: Case) -> None:
                case.call_and_validate()

            try:
                run()
            except Unsatisfiable:
                continue  # nothing of this operation can be made invalid (e.g. no parameters)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected, reported together below
                failures[f"{operation.label} ({mode.value})"] = str(exc)[:3000]
    return failures


@pytest.mark.slow
def test_generated_requests_with_random_ids(app, api_runtime) -> None:
    _seed(api_runtime)
    failures = _fuzz(_schema(app, api_runtime), None)
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


@pytest.mark.slow
def test_generated_requests_on_real_objects(app, api_runtime) -> None:
    ids = _seed(api_runtime)
    failures = _fuzz(_schema(app, api_runtime), ids)
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())

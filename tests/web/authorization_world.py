"""The cases both authorisation matrices (web pages and API routes) are checked against."""

from __future__ import annotations

from gol_workflow.services.workflow import tasks as task_service
from gol_workflow.services.workflow.runtime import Runtime

from .conftest import actor_of, ready, start_case

# Which cases' tasks each person finds in their inbox.
INBOX = {
    "cpi.nord": {"N"}, "cpi.nord.bis": {"N"}, "cpi.sud": {"S"}, "sds.nord": {"N"}, "sds.sud": {"S"},
    "spec.nord": {"N"}, "spec.sud": {"S"}, "ats.nord": {"N2"}, "ats.altro": set(), "admin": {"N", "N2", "S"},
    "analista": set(),
}

# Which cases each person finds in the case list (the cases whose case file they may open).
CASES = {
    "cpi.nord": {"N", "N2"}, "cpi.nord.bis": {"N", "N2"}, "cpi.sud": {"S"}, "sds.nord": {"N", "N2"},
    "sds.sud": {"S"}, "spec.nord": {"N"}, "spec.sud": {"S"}, "ats.nord": {"N", "N2"}, "ats.altro": {"S"},
    "admin": {"N", "N2", "S"}, "analista": set(),
}


def _profile(rt: Runtime, case_id: str, zone: str, manager: str, services: list[str]) -> None:
    data = {"bisogni_particolari": bool(services), "servizi_specialistici": services, "case_manager": manager,
            "data_colloquio": "2026-01-07"}
    # Explicit choices: the test accounts have no ATS case manager in zone sud.
    task_service.complete_task(rt, ready(rt, case_id)[0]["id"], data, actor_of(f"cpi.{zone}"),
                               options={"case_manager": [manager], "servizi_specialistici": services})


def build_world(rt: Runtime) -> dict[str, str]:
    """N: nord, equipe step, salute mentale; N2: nord, at the ATS interview; S: sud, equipe step."""
    n = start_case(rt, "nord", "Laura", "Bianchi")
    _profile(rt, n, "nord", "ats.nord", ["salute_mentale"])
    n2 = start_case(rt, "nord", "Gino", "Rossi", "RSSGNI70A01G713")
    _profile(rt, n2, "nord", "ats.nord", [])
    task_service.complete_task(rt, ready(rt, n2)[0]["id"], {"scheda_esito": {"percorso": "formazione", "obiettivi": "x"}},
                               actor_of("sds.nord"))
    s = start_case(rt, "sud", "Marco", "Neri", "NRIMRC80A01G713")
    _profile(rt, s, "sud", "ats.altro", ["salute_mentale"])
    return {"N": n, "N2": n2, "S": s, "task_equipe_N": ready(rt, n)[0]["id"], "task_ats_N2": ready(rt, n2)[0]["id"]}

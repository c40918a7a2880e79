"""`PATCH /api/v1/instances/{id}/data` and `POST /api/v1/instances/{id}/move` on a real Percorso 4 case."""

from __future__ import annotations

from typing import Any

import pytest

from gol_workflow.services.access import tokens
from gol_workflow.web import create_app
from tests.api.conftest import assert_problem
from tests.conftest import ADMIN
from tests.integration.percorso4_support import LUCIA, Percorso4, add_account, p4, profilo, smtp  # noqa: F401


class Client:
    """The API as one account calls it."""

    def __init__(self, p4: Percorso4, username: str) -> None:
        self.client = create_app(p4.rt, {"TESTING": True}).test_client()
        self.headers = {"Authorization": f"Bearer {tokens.issue_token(p4.rt, username, ADMIN).secret}"}

    def patch(self, url: str, body: Any) -> Any:
        return self.client.patch(url, json=body, headers=self.headers)

    def post(self, url: str, body: Any) -> Any:
        return self.client.post(url, json=body, headers=self.headers)


@pytest.fixture
def admin(p4: Percorso4) -> Client:
    add_account(p4.rt, "amministratore", "admin", [], "Amministratore")
    return Client(p4, "amministratore")


def test_an_invalid_edit_is_400_per_field_and_changes_nothing(p4: Percorso4, admin: Client) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    body = {"changes": {"zona": "atlantide", "fabbisogno_formativo": 3}, "reason": "prova"}
    problem = assert_problem(admin.patch(f"/api/v1/instances/{case}/data", body), 400, "validation-failed")
    assert set(problem["errors"]) == {"changes.zona", "changes.fabbisogno_formativo"}
    assert p4.header(case)["zone"] == "pistoiese"
    assert "reason" in assert_problem(admin.patch(f"/api/v1/instances/{case}/data", {"changes": {}}), 400)["errors"]


def test_a_dry_run_edit_answers_the_consequences_then_the_edit_saves_them(p4: Percorso4, admin: Client) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    body = {"changes": {"zona": "valdinievole"}, "reason": "residenza a Pescia", "dry_run": True}
    answer = admin.patch(f"/api/v1/instances/{case}/data", body)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    plan = answer.get_json()
    assert plan["applied"] is False and plan["tasks_moved"][0]["to_zone"] == "valdinievole"
    assert plan["changes"] == [{"field": "zona", "before": "pistoiese", "after": "valdinievole", "removed": False}]
    assert p4.header(case)["zone"] == "pistoiese"
    done = admin.patch(f"/api/v1/instances/{case}/data", {**body, "dry_run": False}).get_json()
    assert done["applied"] is True and p4.header(case)["zone"] == "valdinievole"


def test_move_with_dry_run_then_for_real_and_a_refusal(p4: Percorso4, admin: Client) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    body = {"kind": "back_to", "element": "profilazione", "reason": "profilazione errata", "dry_run": True}
    preview = admin.post(f"/api/v1/instances/{case}/move", body)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    plan = preview.get_json()
    assert [i["element_id"] for i in plan["created"]] == ["profilazione"] and plan["applied"] is False
    assert [i["element_id"] for i in plan["cancelled"]] == ["attesa_esito_equipe"]
    assert p4.ready(case) == []
    assert admin.post(f"/api/v1/instances/{case}/move", {**body, "dry_run": False}).get_json()["applied"] is True
    assert p4.ready(case) == ["profilazione"]

    refused = admin.post(f"/api/v1/instances/{case}/move",
                         {"kind": "skip", "element": "profilazione", "reason": "non serve"})
    problem = assert_problem(refused, 409, "move-refused")
    assert problem["code"] == "would-fail" and problem["element"] == "assegna_percorso"
    assert "kind" in assert_problem(admin.post(f"/api/v1/instances/{case}/move",
                                               {"kind": "salta", "reason": "x"}), 400)["errors"]


def test_only_administrators_edit_and_move(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    operator = Client(p4, "cpi.pistoia")
    assert_problem(operator.patch(f"/api/v1/instances/{case}/data",
                                  {"changes": {"zona": "valdinievole"}, "reason": "x"}), 403)
    assert_problem(operator.post(f"/api/v1/instances/{case}/move",
                                 {"kind": "skip", "element": "profilazione", "reason": "x"}), 403)

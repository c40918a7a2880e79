"""Form keywords for analysts: conditional fields, cross-field rules, prefill and copy declarations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gol_workflow.domain.errors import ConfirmationNeeded, ValidationFailed
from gol_workflow.forms import conditions, initial_values, submission
from gol_workflow.forms.codice_fiscale import check_character
from gol_workflow.forms.form_files import check_form_file
from gol_workflow.forms.rendering import build_fields
from gol_workflow.forms.validation import validate

FORMS = Path(__file__).resolve().parents[2] / "forms"


def form(name: str) -> dict[str, Any]:
    return json.loads((FORMS / f"{name}.schema.json").read_text(encoding="utf-8"))


def test_a_conditional_field_is_required_only_when_its_condition_holds_and_says_why() -> None:
    schema = form("primo_colloquio")
    assert validate(schema, {"presente_primo_colloquio": False}) == {
        "esito_assenza": ["Obbligatorio perché hai indicato «No» in «Il beneficiario si è presentato»."]}
    assert validate(schema, {"presente_primo_colloquio": True}) == {
        "data_avvio_percorso": ["Obbligatorio perché hai indicato «Sì» in «Il beneficiario si è presentato»."]}
    assert validate(schema, {"presente_primo_colloquio": False, "esito_assenza": "rinuncia"}) == {}
    nested = validate(form("scheda_esito"), {"scheda_esito": {
        "servizi_presenti": ["centro_impiego"], "beneficiario_presente": True, "decisione": "non_attivabile"}})
    assert nested == {"scheda_esito.motivazione": [
        "Obbligatorio perché hai indicato «Percorso 4 non attivabile» in «Decisione dell'equipe»."]}


def test_dependent_required_explains_itself_too() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "title": "Datore di lavoro"},
                                               "b": {"type": "string"}},
              "dependentRequired": {"a": ["b"]}}
    assert validate(schema, {"a": "Coop"}) == {"b": ["Obbligatorio perché hai compilato «Datore di lavoro»."]}
    assert conditions.conditional_fields(schema)["b"] == [conditions.Condition("a", ())]


def test_the_renderer_marks_conditional_fields_with_their_condition() -> None:
    fields = {f.name: f for f in build_fields(form("monitoraggio_finale"))}
    assert fields["tipo_contratto"].shown_if == [("esito", ["occupato"])]
    assert fields["tipo_contratto"].condition == "Da compilare solo se «Esito del percorso» è «Occupato/a»."
    assert fields["esito_altro"].shown_if == [("esito", ["altro"])]
    assert fields["note_finali"].shown_if == [] and fields["esito"].condition is None
    scheda = {f.name: f for f in build_fields(form("scheda_esito"))[0].children}
    assert scheda["scheda_esito.motivazione"].shown_if == [("scheda_esito.decisione", ["rinvio"]),
                                                           ("scheda_esito.decisione", ["non_attivabile"])]


def test_values_of_fields_that_do_not_apply_are_cleared_and_unanswered_fields_recorded_as_none() -> None:
    schema = form("profilazione")
    data = {"bisogni_complessi": False, "fabbisogno_formativo": "nessuno", "bisogni_particolari": True,
            "servizi_specialistici": ["salute_mentale"]}
    recorded = submission.recorded(schema, data)
    assert recorded == {"bisogni_complessi": False, "fabbisogno_formativo": "nessuno",
                        "conosciuto_servizio_sociale": None, "bisogni_particolari": None,
                        "servizi_specialistici": None, "condizione_economica": None, "note_assessment": None}


def test_each_form_keeps_its_own_conditions_when_submitted_again_and_alongside_others() -> None:
    def asks_if(answer: str) -> dict[str, Any]:
        return {"type": "object", "properties": {"esito": {"type": "string"}, "dettaglio": {"type": "string"}},
                "allOf": [{"if": {"properties": {"esito": {"const": answer}}, "required": ["esito"]},
                           "then": {"required": ["dettaglio"]}}]}

    data = {"esito": "si", "dettaglio": "x", "altro": 1}
    for _ in range(2):
        assert conditions.without_inapplicable(asks_if("si"), data) == data
        assert conditions.without_inapplicable(asks_if("no"), data) == {"esito": "si", "altro": 1}
    schema = asks_if("si")
    assert conditions.without_inapplicable(schema, data) == conditions.without_inapplicable(schema, data) == data
    assert conditions.conditional_fields(schema) == {"dettaglio": [conditions.Condition("esito", ("si",))]}


@pytest.mark.parametrize(("name", "data", "path", "message"), [
    ("progetto_individualizzato", {"attivita": [{"misura": "formazione", "descrizione": "Corso",
                                                 "data_inizio": "2026-05-02", "data_fine": "2026-05-01"}]},
     "attivita.0.data_fine", "La fine prevista non può precedere l'inizio dell'attività."),
    ("monitoraggio", {"partecipanti_monitoraggio": ["ats", "beneficiario"], "assenti_monitoraggio": ["beneficiario"]},
     "assenti_monitoraggio", "Chi è indicato tra i presenti non può essere anche tra gli assenti."),
    ("monitoraggio_finale", {"esito": "inclusione_sociale", "tipo_contratto": "apprendistato"},
     "tipo_contratto", "Un tipo di contratto si indica solo con l'esito «Occupato/a»: correggere l'esito o togliere il contratto."),
])
def test_cross_field_rules_refuse_contradictions_with_their_message(
        name: str, data: dict[str, Any], path: str, message: str) -> None:
    errors, warnings = submission.problems(form(name), data)
    assert message in errors[path] and warnings == []


def test_activity_dates_in_order_and_an_employed_outcome_with_its_contract_pass() -> None:
    ok = {"attivita": [{"misura": "formazione", "descrizione": "Corso", "data_inizio": "2026-05-01",
                        "data_fine": "2026-05-01"}]}
    assert "attivita.0.data_fine" not in submission.problems(form("progetto_individualizzato"), ok)[0]
    assert "tipo_contratto" not in submission.problems(form("monitoraggio_finale"),
                                              {"esito": "occupato", "tipo_contratto": "apprendistato"})[0]


def test_codice_fiscale_mismatch_is_a_warning_that_a_confirmation_lifts() -> None:
    schema = form("avvio_presa_in_carico")
    person = {"codice_fiscale": "RSSMRC75C12E715" + check_character("RSSMRC75C12E715"), "cognome": "Rossi", "nome": "Marco", "data_nascita": "1975-03-12"}
    data = {"zona": "pistoiese", "beneficiario": {**person, "nome": "Luca"}}
    with pytest.raises(ConfirmationNeeded) as refused:
        submission.checked(schema, data)
    assert refused.value.errors["beneficiario.codice_fiscale"][0].startswith(
        "Il codice fiscale non corrisponde ai dati anagrafici indicati (il nome dà «LCU», il codice ha «MRC»)")
    assert submission.checked(schema, data, confirmed={"codice-fiscale-anagrafica"})["beneficiario"]["nome"] == "Luca"
    assert submission.checked(schema, {"zona": "pistoiese", "beneficiario": person})
    with pytest.raises(ValidationFailed):
        submission.checked(schema, {"zona": "pistoiese", "beneficiario": {**person, "cognome": ""}},
                           confirmed={"codice-fiscale-anagrafica"})


def test_deploy_reports_unknown_rules_and_misused_keywords_on_their_line() -> None:
    text = """{
  "type": "object",
  "properties": {
    "inizio": {"type": "string", "format": "date"},
    "fine": {"type": "string", "format": "date", "x-prefill": "ieri"}
  },
  "x-copy-from-previous": 3,
  "x-rules": [
    {"rule": "date-order", "fields": ["inizio", "termine"]},
    {"rule": "prima-di", "fields": ["inizio", "fine"]}
  ]
}
"""
    schema, problems = check_form_file("date.schema.json", text.encode())
    found = sorted((p.line, p.message) for p in problems)
    assert schema is None
    assert (5, "unknown x-prefill 'ieri'; known: case") in found
    assert (7, "x-copy-from-previous is true or the button's label") in found
    assert (9, "rule 'date-order' names fields that are not properties here: termine") in found
    assert any(line == 10 and message.startswith("unknown rule 'prima-di'") for line, message in found)


def test_every_shipped_form_passes_the_deploy_checks() -> None:
    for path in FORMS.glob("*.schema.json"):
        assert check_form_file(path.name, path.read_bytes())[1] == [], path.name


def test_a_form_starts_from_what_it_declares_as_coming_from_the_case() -> None:
    case = {"obiettivi": [{"ambito": "occupabilita"}], "modifiche_concordate": "Aprile", "descrizione_modifica": "x"}
    assert initial_values.prefilled(form("aggiorna_progetto"), case) == {"obiettivi": [{"ambito": "occupabilita"}]}
    assert initial_values.prefilled(form("monitoraggio"), {**case, "partecipanti_monitoraggio": ["ats"]}) == {}
    assert initial_values.copy_label(form("monitoraggio")) == "Copia dall'ultimo monitoraggio"
    assert initial_values.copy_label(form("profilazione")) is None


def test_the_patto_covers_each_area_or_says_why_it_does_not_apply() -> None:
    from gol_workflow.forms.cross_rules import declaration_problems, findings

    schema = form("progetto_individualizzato")
    row = {"obiettivo": "x", "risultato_atteso": "y"}
    one_area = {"obiettivi": [{"ambito": "inclusione_sociale", **row}]}
    (missing,) = findings(schema, one_area)
    assert missing.path == "obiettivi" and "«Occupabilità», «Inserimento lavorativo»" in missing.message
    explained = {**one_area, "aree_non_applicabili": [
        {"ambito": "occupabilita", "motivazione": "a"}, {"ambito": "inserimento_lavorativo", "motivazione": "b"}]}
    assert findings(schema, explained) == []
    twice = {**explained, "obiettivi": [*one_area["obiettivi"], {"ambito": "occupabilita", **row}]}
    assert "«Occupabilità» è sia in" in findings(schema, twice)[0].message

    measures = {**explained, "misure_scheda": ["formazione", "tirocinio_inclusione"],
                "attivita": [{"misura": "tirocinio_inclusione", "descrizione": "t"}]}
    (left_out,) = findings(schema, measures)
    assert left_out.path == "attivita" and "«Formazione (aggiornamento o riqualificazione)»" in left_out.message
    assert findings(schema, {**measures, "misure_non_attivate": [{"misura": "formazione", "motivazione": "m"}]}) == []

    bad = {"type": "object", "properties": {"a": {"type": "array"}, "b": {"type": "array"}},
           "x-rules": [{"rule": "covers-or-explains", "fields": ["a", "b"]}]}
    assert [m for _, m in declaration_problems(bad)] == [
        "rule 'covers-or-explains' takes the rows' field to compare in \"key\"",
        "rule 'covers-or-explains' takes the values to cover in \"values\""]

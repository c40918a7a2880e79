"""Joint work as the seeds describe it: monitoring by three services, letters to the person, the project follows the scheda."""

from __future__ import annotations

import re
import zlib
from datetime import datetime, timedelta
from html import unescape
from typing import Any

import pytest

from gol_workflow.domain.errors import NotFound, ValidationFailed
from gol_workflow.services.cases import attachments, monitoring
from gol_workflow.services.letters import listing
from gol_workflow.services.workflow import task_view
from gol_workflow.services.access import tokens
from gol_workflow.web import create_app
from tests.conftest import ADMIN
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    FINAL_PARTS,
    LUCIA,
    MARCO,
    MONITORING_PARTS,
    PROGETTO,
    Percorso4,
    local_day,
    p4,
    part,
    profilo,
    scheda,
    smtp,
)
from tests.integration.test_case_list_percorso4 import logged_in
from tests.integration.test_percorso4_path import into_the_path


def pdf_text(content: bytes) -> str:
    """The text of a PDF written by the service (fpdf2: compressed streams, literal strings)."""
    assert content.startswith(b"%PDF-")
    lines: list[str] = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S):
        try:
            text = zlib.decompress(stream).decode("latin-1")
        except zlib.error:
            continue
        lines += [re.sub(r"\\(.)", r"\1", s) for s in re.findall(r"\(((?:\\.|[^\\)])*)\)\s*Tj", text)]
    return " ".join(lines)


def letters(p4: Percorso4, case: str, kind: str) -> list[dict[str, Any]]:
    return [a for a in p4.attachments(case) if a["kind"] == kind]


def letter_text(p4: Percorso4, case: str, kind: str) -> str:
    (found,) = letters(p4, case, kind)
    return pdf_text(listing.download_letter(p4.rt, case, str(found["id"]), p4.actors["cpi.pistoia"]).content)


def api_get(p4: Percorso4, username: str, url: str) -> Any:
    client = create_app(p4.rt, {"TESTING": True}).test_client()
    secret = tokens.issue_token(p4.rt, username, ADMIN).secret
    return client.get(url, headers={"Authorization": f"Bearer {secret}"})


# -- letters ------------------------------------------------------------------------------------


def test_a_non_attivabile_decision_is_told_by_letter_and_e_mail_and_listed_on_the_case(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", {**LUCIA, "email": "lucia.bianchi@example.it"})
    p4.complete("profilazione", case, profilo(conosciuto=False), "cpi.pistoia")
    meeting = p4.meetings_of(case)[-1]["id"]
    p4.advance_to(p4.meeting(meeting)["scheduled_at"] - timedelta(days=4))  # the cut-off: the meeting is convened

    # Not known to the Social Service, she takes part: convened by letter with date, time and place.
    convocation = letter_text(p4, case, "lettera_convocazione")
    assert "Gentile Lucia Bianchi" in convocation and "martedì 13 gennaio 2026, ore 09:30" in convocation
    assert "presso" in convocation and "Centro per l'impiego" in convocation  # whom to ask

    p4.hold_meeting(meeting, {case: scheda(presente=True, decisione="non_attivabile")}, by="sds.pistoia")
    assert p4.header(case)["status"] == "completed"
    text = letter_text(p4, case, "lettera_esito")
    assert "non attivabile" in text and "Serve la relazione del servizio specialistico." in text
    assert "Lucia Bianchi" in text and "Codice fiscale" in text

    sent = [r for r in p4.outbox_rows() if r["recipients"] == ["lucia.bianchi@example.it"]]
    assert sorted(r["subject"] for r in sent) == ["Convocazione all'equipe multidisciplinare GOL Percorso 4",
                                                  "Esito dell'equipe multidisciplinare GOL Percorso 4"]
    assert all(r["attachments"][0]["filename"].endswith(".pdf") for r in sent)
    assert [e["data"]["tipo"] for e in p4.audit("letter.issued", case)] == [
        "Lettera di convocazione all'equipe", "Lettera con la decisione dell'equipe"]

    # Listed and downloadable over the API, for those who see the case only.
    listed = api_get(p4, "cpi.pistoia", f"/api/v1/cases/{case}/letters")
    assert listed.status_code == 200
    items = listed.get_json()["items"]
    assert {i["kind"] for i in items} == {"lettera_convocazione", "lettera_esito"} and all(i["emailed"] for i in items)
    esito = next(i for i in items if i["kind"] == "lettera_esito")
    pdf = api_get(p4, "cpi.pistoia", f"/api/v1/cases/{case}/letters/{esito['id']}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and "non attivabile" in pdf_text(pdf.data)
    assert api_get(p4, "cpi.pescia", f"/api/v1/cases/{case}/letters").status_code == 404  # another zone
    document = api_get(p4, "cpi.pistoia", "/api/openapi.json").get_json()
    assert {"/api/v1/cases/{case_id}/letters", "/api/v1/cases/{case_id}/letters/{letter_id}"} <= set(document["paths"])


def test_a_person_known_to_both_services_is_not_convened_but_told_every_decision(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", case, profilo(conosciuto=True), "cpi.pistoia")
    p4.hold_meeting(p4.meetings_of(case)[-1]["id"], {case: scheda(presente=False, decisione="rinvio")},
                    by="sds.pistoia")
    p4.hold_meeting(p4.meetings_of(case)[-1]["id"], {case: scheda(presente=False)}, by="sds.pistoia")
    assert letters(p4, case, "lettera_convocazione") == []
    assert len(letters(p4, case, "lettera_esito")) == 2  # the rinvio, then the presa in carico
    assert p4.ready(case) == ["informa_beneficiario"]
    assert not [r for r in p4.outbox_rows() if "Esito dell'equipe" in r["subject"]]  # no address: only printable


def test_the_first_appointment_letter_says_when_where_with_whom_and_whom_to_ask(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    p4.hold_meeting(p4.meetings_of(case)[-1]["id"], {case: scheda(presente=True)}, by="sds.pistoia")
    view = p4.task_page("prenota_primo_appuntamento", case, "cpi.pistoia")
    slot = view.options["ats_slot"][0][0]
    p4.complete("prenota_primo_appuntamento", case, {"slot_appuntamento": slot, "case_manager": "cm.rossi",
                                                     "luogo_appuntamento": "Sede ATS, via Roma 1, Pistoia"},
                "cpi.pistoia")
    text = letter_text(p4, case, "lettera_appuntamento")
    moment = datetime.fromisoformat(slot)
    assert f"{moment.day} " in text and f"ore {moment:%H:%M}" in text
    assert "presso Sede ATS, via Roma 1, Pistoia" in text and "case manager: Anna Rossi" in text
    assert "Per qualsiasi informazione può rivolgersi a Centro per l'impiego" in text
    assert p4.ready(case) == ["primo_colloquio"]
    page = unescape(logged_in(p4, "cpi.pistoia").text(f"/casi/{case}"))  # on the case file, to print
    assert "Lettera del primo appuntamento" in page and "Lettera con la decisione dell'equipe" in page
    assert "PDF da stampare" in page and "inviata anche per e-mail" not in page


# -- monitoring by three services ---------------------------------------------------------------


def test_a_monitoring_is_done_by_cpi_social_services_and_the_case_manager_each_with_their_part(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    into_the_path(p4, case)
    monitoring.request_monitoring(p4.rt, case, "Verifica del tirocinio.", p4.actors["cm.rossi"])
    p4.rt.workflows.clear()
    assert p4.ready(case) == MONITORING_PARTS  # no record of the case manager alone
    lanes = {t["element_id"]: t["lane"] for t in p4.inbox(case_id=case)}
    assert lanes == {"monitoraggio_parte_cpi": "CPI", "monitoraggio_parte_sociale": "Servizi sociali"}
    with pytest.raises(NotFound):  # each part is its service's own
        p4.task_page("monitoraggio_parte_cpi", case, "sds.pistoia")
    with pytest.raises(NotFound):
        p4.task_page("monitoraggio_parte_sociale", case, "cm.rossi")
    with pytest.raises(ValidationFailed) as refused:
        p4.complete("monitoraggio_parte_sociale", case, {"parte_servizi_sociali": {"referente": "S. Desideri"}},
                    "sds.pistoia")
    assert "parte_servizi_sociali.valutazione" in refused.value.errors

    p4.complete("monitoraggio_parte_cpi", case, part("parte_cpi", "C. Pieri"), "cpi.pistoia")
    assert p4.ready(case) == ["monitoraggio_parte_sociale"]  # the joint record waits for every part
    p4.complete("monitoraggio_parte_sociale", case, {"parte_servizi_sociali": {
        "referente": "S. Desideri", "partecipazione": "contributo_scritto",
        "valutazione": "La rete familiare tiene.", "proposte": "Trasporto anche il sabato."}}, "sds.pistoia")
    assert p4.ready(case) == ["monitoraggio"]
    page = p4.task_page("monitoraggio", case, "cm.rossi")
    instructions = unescape(str(page.instructions))
    assert "Parte dei Servizi Sociali (S. Desideri): La rete familiare tiene." in instructions
    assert "Proposte: Trasporto anche il sabato." in instructions and "Parte del Centro per l'Impiego (C. Pieri)" in instructions
    p4.complete("monitoraggio", case, p4.monitoraggio(), "cm.rossi")
    assert p4.ready(case) == []

    # The final monitoring: the case manager and the Social Services, then the CPI's record.
    end = datetime.fromisoformat(p4.data(case)["data_fine_percorso"])
    while (due := p4.header(case)["next_due_at"]) is not None and due < end:
        p4.advance_to(due + timedelta(minutes=1))
        p4.monitor(case, p4.monitoraggio(), "cm.rossi")
    p4.advance_to(end + timedelta(minutes=1))
    assert p4.ready(case) == FINAL_PARTS
    with pytest.raises(NotFound):
        p4.task_page("monitoraggio_parte_ats", case, "cpi.pistoia")
    p4.final_parts(case)
    assert p4.ready(case) == ["monitoraggio_finale"]
    assert "Parte dell'ATS (Case manager)" in unescape(str(p4.task_page("monitoraggio_finale", case,
                                                                           "cpi.pistoia").instructions))
    p4.complete("monitoraggio_finale", case, {"data_monitoraggio_finale": local_day(p4.now()), "esito": "altro",
                                              "esito_altro": "Trasferita", "obiettivi_raggiunti": "in_parte"},
                "cpi.pistoia")
    assert p4.header(case)["status"] == "completed"


# -- the project follows the scheda -------------------------------------------------------------


def _to_the_project(p4: Percorso4, case: str) -> None:
    p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    p4.hold_meeting(p4.meetings_of(case)[-1]["id"], {case: scheda(presente=True)}, by="sds.pistoia")
    slot = p4.book_first_appointment(case, "cm.rossi", "cpi.pistoia")
    p4.start_path(case, "cm.rossi", slot)


def test_the_project_starts_from_the_scheda_and_is_refused_when_an_area_or_a_measure_is_left_out(
    p4: Percorso4,
) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    _to_the_project(p4, case)
    view = p4.task_page("progetto_individualizzato", case, "cm.rossi")
    assert view.values["misure_scheda"] == ["orientamento_specialistico", "tirocinio_inclusione"]
    assert [o["ambito"] for o in view.values["obiettivi"]] == ["inclusione_sociale", "occupabilita",
                                                               "inserimento_lavorativo"]
    assert view.values["obiettivi"][2]["obiettivo"] == "Tirocinio in una cooperativa sociale di tipo B."
    assert "Tirocinio di inclusione sociale" in view.values["indicazioni_scheda"]  # labels, never codes

    measures = {"misure_scheda": view.values["misure_scheda"]}
    only_one_area = {**PROGETTO, **measures, "obiettivi": PROGETTO["obiettivi"][:1], "aree_non_applicabili": [],
                     "attivita": [*PROGETTO["attivita"], {"misura": "orientamento_specialistico",
                                                          "descrizione": "Colloqui"}]}
    with pytest.raises(ValidationFailed) as refused:
        p4.complete("progetto_individualizzato", case, only_one_area, "cm.rossi")
    assert refused.value.errors == {"obiettivi": [
        "Manca «Occupabilità», «Inserimento lavorativo»: va coperto in «Obiettivi e risultati attesi del patto» "
        "oppure spiegato in «Aree del patto che non si applicano»."]}

    measure_left_out = {**PROGETTO, **measures}  # orientamento is in the scheda, in no activity
    with pytest.raises(ValidationFailed) as refused:
        p4.complete("progetto_individualizzato", case, measure_left_out, "cm.rossi")
    assert list(refused.value.errors) == ["attivita"] and "«Orientamento specialistico»" in refused.value.errors[
        "attivita"][0]

    both = {**PROGETTO, **measures, "misure_non_attivate": [
        {"misura": "orientamento_specialistico", "motivazione": "Già seguito dal servizio specialistico."}],
        "obiettivi": [*PROGETTO["obiettivi"], {"ambito": "inserimento_lavorativo", "obiettivo": "Un lavoro",
                                               "risultato_atteso": "Un contratto"}]}
    with pytest.raises(ValidationFailed) as refused:  # an area covered and said not to apply
        p4.complete("progetto_individualizzato", case, both, "cm.rossi")
    assert "sia in" in refused.value.errors["obiettivi"][0]

    accepted = {**both, "obiettivi": PROGETTO["obiettivi"]}
    p4.complete("progetto_individualizzato", case, accepted, "cm.rossi")
    (printed,) = [a for a in p4.attachments(case) if a["kind"] == "progetto_da_firmare"]
    text = listing.download_letter(p4.rt, case, str(printed["id"]), p4.actors["cm.rossi"]).content
    words = pdf_text(text)
    assert "Firma del beneficiario" in words and "Partecipare a un gruppo di auto mutuo aiuto" in words
    assert "Già seguito dal servizio specialistico." in words and "Anna Rossi" in words

    signed = attachments.upload(p4.rt, case, "patto-firmato.pdf", text, "patto_firmato", p4.actors["cm.rossi"])
    assert any(a["id"] == signed and a["kind"] == "patto_firmato" for a in p4.attachments(case))
    kinds = [item.kind for item in listing.letters_of(p4.rt, case, p4.actors["cm.rossi"])]
    assert "progetto_da_firmare" in kinds and "lettera_appuntamento" in kinds


def test_a_substantial_change_after_month_12_is_not_dropped_but_put_before_the_final_monitoring(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", MARCO)
    into_the_path(p4, case)
    end = datetime.fromisoformat(p4.data(case)["data_fine_percorso"])
    monitoring.request_monitoring(p4.rt, case, "Verifica.", p4.actors["cpi.pistoia"])
    p4.rt.workflows.clear()
    p4.advance_to(end + timedelta(days=1))  # the monitoring is recorded after the end date
    p4.monitor(case, p4.monitoraggio(modifica=True), "cm.rossi")
    assert p4.ready(case) == FINAL_PARTS and len(p4.meetings_of(case)) == 1  # no review meeting
    assert p4.data(case)["modifica_tardiva"]["descrizione"] == "Sostituire il tirocinio con un corso di formazione."
    p4.final_parts(case)
    instructions = unescape(str(p4.task_page("monitoraggio_finale", case, "cpi.pistoia").instructions))
    assert "ATTENZIONE" in instructions and "Sostituire il tirocinio con un corso di formazione." in instructions
    p4.complete("monitoraggio_finale", case, {"data_monitoraggio_finale": local_day(p4.now()),
                                              "esito": "inclusione_sociale", "obiettivi_raggiunti": "in_parte",
                                              "seguito_modifica_tardiva": "servizi_territoriali"}, "cpi.pistoia")
    assert p4.data(case)["seguito_modifica_tardiva"] == "servizi_territoriali"

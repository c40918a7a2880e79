"""Italian words for the service's codes: audit actions, statuses, roles, messages and who acted.

The one place operators' words for internal names live. Labels that a data file already holds are read
from it instead: specialist services from the zone files (`Zone.services`), task names from the BPMN
files, choices from the forms' `x-enumNames`/`oneOf` titles.
"""

from __future__ import annotations

SYSTEM_LABEL = "Sistema"
ADMINISTRATION_LABEL = "Amministrazione"
UNKNOWN_ACTION = "Operazione registrata"

# Audit actions, as the case history and the administrators' pages show them.
ACTIONS: dict[str, str] = {
    "person.exported": "Dati della persona esportati (art. 15 GDPR)",
    "case.anonymised": "Caso anonimizzato (periodo di conservazione trascorso)",
    "case.legal_hold_set": "Blocco legale impostato",
    "case.legal_hold_cleared": "Blocco legale rimosso",
    "retention.run": "Passaggio di conservazione",
    "person.accesses_viewed": "Elenco degli accessi ai dati consultato",
    "instance.started": "Caso aperto",
    "instance.error": "Errore nel procedimento",
    "instance.retried": "Passo ripetuto",
    "instance.auto_retried": "Passo ripetuto automaticamente",
    "instance.suspended": "Caso sospeso",
    "instance.resumed": "Caso ripreso",
    "instance.terminated": "Caso chiuso d'ufficio",
    "instance.migrated": "Caso aggiornato a una nuova versione del processo",
    "instance.data_edited": "Dati del caso corretti dall'amministrazione",
    "instance.moved": "Caso spostato dall'amministrazione",
    "case.facts_superseded": "Dati del fascicolo superati da uno spostamento",
    "instance.data_revealed": "Dati riservati visualizzati dall'amministrazione",
    "instance.inspected": "Caso esaminato dall'amministrazione",
    "task.completed": "Attività completata",
    "task.claimed": "Attività assegnata",
    "task.released": "Attività rilasciata",
    "task.draft_saved": "Bozza salvata",
    "timer.fired": "Scadenza raggiunta",
    "message.delivered": "Comunicazione ricevuta",
    "message.buffered": "Comunicazione in attesa",
    "message.dropped": "Comunicazione scartata",
    "case.viewed": "Fascicolo consultato",
    "case.placement_recorded": "Inserimento registrato",
    "zone.operator_meeting_recorded": "Incontro tra operatori registrato",
    "document.viewed": "Documento consultato",
    "attachment.uploaded": "Allegato caricato",
    "attachment.downloaded": "Allegato scaricato",
    "equipe.booked": "Iscritto all'ordine del giorno dell'equipe",
    "equipe.withdrawn": "Ritirato dall'ordine del giorno dell'equipe",
    "equipe.discussion_opened": "Caso in discussione all'equipe",
    "equipe.scheda_drafted": "Scheda di esito redatta dall'equipe",
    "equipe.confirmed": "Decisione dell'equipe confermata",
    "equipe.dissented": "Dissenso sulla decisione dell'equipe",
    "meeting.convened": "Riunione dell'equipe convocata",
    "meeting.cancelled": "Riunione dell'equipe annullata (nessun caso iscritto)",
    "meeting.failed": "Convocazione dell'equipe non riuscita",
    "meeting.retried": "Convocazione dell'equipe ritentata",
    "booking.cancelled": "Appuntamento con l'ATS annullato",
    "idol.appointment_booked": "Appuntamento registrato su IDOL",
    "idol.document_uploaded": "Documento inviato a IDOL",
    "idol.refused": "IDOL ha rifiutato l'invio",
    "idol.failed": "IDOL non raggiungibile o in errore: invio da ripetere",
    "letter.issued": "Lettera al beneficiario preparata",
    "project.printed": "Progetto da firmare preparato",
    "mail.sent": "E-mail inviata",
    "mail.failed": "E-mail non recapitata",
    "mail.requeued": "E-mail rimessa in coda",
    "clock.moved": "Orologio di simulazione spostato",
    "batch.created": "Operazione massiva avviata",
    "batch.finished": "Operazione massiva conclusa",
    "batch.cancelled": "Operazione massiva annullata",
    "process.deployed": "Processo pubblicato",
    "process.draft_saved": "Bozza del processo salvata",
    "scheduler.failed": "Errore del pianificatore",
    "user.created": "Utente creato",
    "user.enabled": "Utente riattivato",
    "user.disabled": "Utente disattivato",
    "user.login": "Accesso",
    "user.login_failed": "Accesso non riuscito",
    "user.logout": "Uscita",
    "user.notifications": "Preferenze di notifica cambiate",
    "token.issued": "Chiave API rilasciata",
    "token.revoked": "Chiave API revocata",
    "instances.listed": "Elenco dei casi consultato",
}

# Actions the service takes on its own, whoever's step or clock move set them off: their author is "Sistema".
SYSTEM_ACTIONS = frozenset({
    "timer.fired", "instance.error", "instance.auto_retried", "message.buffered", "message.dropped",
    "equipe.booked", "equipe.discussion_opened", "meeting.convened", "meeting.cancelled", "meeting.failed", "booking.cancelled",
    "idol.appointment_booked", "idol.document_uploaded", "idol.refused", "idol.failed", "mail.sent", "mail.failed", "scheduler.failed",
    "letter.issued", "project.printed",
})
SYSTEM_ACTORS = frozenset({"sistema", "system"})

# BPMN message names (the diagrams name them by code) in the operators' words.
MESSAGES: dict[str, str] = {
    "esito_equipe": "esito della valutazione dell'equipe",
    "richiesta_monitoraggio": "richiesta di monitoraggio",
}

STATUSES: dict[str, str] = {
    "running": "In corso",
    "waiting": "In attesa",
    "suspended": "Sospeso",
    "error": "In errore",
    "completed": "Concluso",
    "terminated": "Chiuso d'ufficio",
}


# Reasons a case goes before the equipe (`motivo_equipe`).
EQUIPE_REASONS: dict[str, str] = {
    "prima_valutazione": "prima valutazione",
    "modifica_sostanziale": "modifica sostanziale",
}


def action(code: str) -> str:
    """An audit action in Italian (an unknown one is never shown by its code)."""
    return ACTIONS.get(code, UNKNOWN_ACTION)


def message(name: str) -> str:
    """A BPMN message in Italian (an unknown one in words made from its code)."""
    return MESSAGES.get(name) or name.replace("_", " ")


def is_system(action_code: str, actor: str) -> bool:
    """True when the service itself is the author of an event."""
    return actor in SYSTEM_ACTORS or action_code in SYSTEM_ACTIONS

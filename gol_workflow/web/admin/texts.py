"""Italian words for what the services report in codes: operations, outcomes, migration reasons, BPMN elements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

OPERATIONS = {
    "suspend": "Sospendere",
    "resume": "Riprendere",
    "terminate": "Chiudere d'ufficio",
    "retry": "Ripetere il passo in errore",
    "migrate": "Migrare a una nuova versione",
}
OPERATION_DONE = {
    "suspend": "Istanza sospesa.",
    "resume": "Istanza ripresa.",
    "terminate": "Istanza chiusa d'ufficio.",
    "retry": "Passo ripetuto.",
    "migrate": "Istanza migrata alla nuova versione.",
}
OUTCOMES = {
    "ok": "Eseguita",
    "invalid_state": "Non applicabile allo stato dell'istanza",
    "refused": "Migrazione rifiutata",
    "not_found": "Istanza non trovata",
    "conflict": "Modificata da altri nel frattempo",
    "forbidden": "Non consentita",
    "invalid": "Dati non validi",
    "cancelled": "Annullata prima dell'esecuzione",
    "failed_again": "Il passo ripetuto è fallito di nuovo",
    "error": "Errore imprevisto",
}
BATCH_STATUS = {"queued": "In coda", "running": "In corso", "finished": "Completata", "cancelled": "Annullata"}
ITEM_STATUS = {"pending": "Da eseguire", "ok": "Eseguita", "failed": "Non eseguita", "skipped": "Saltata"}
STATE_NAMES = {
    "COMPLETED": "completato", "READY": "pronto", "WAITING": "in attesa", "STARTED": "in corso",
    "ERROR": "in errore", "FUTURE": "futuro", "LIKELY": "previsto", "MAYBE": "possibile", "CANCELLED": "annullato",
}
ELEMENT_KINDS = {
    "UserTask": "Attività utente", "ScriptTask": "Script", "ServiceTask": "Attività di servizio",
    "BusinessRuleTask": "Regola di decisione", "ManualTask": "Attività manuale", "NoneTask": "Attività",
    "ExclusiveGateway": "Gateway esclusivo", "InclusiveGateway": "Gateway inclusivo",
    "ParallelGateway": "Gateway parallelo", "EventBasedGateway": "Gateway basato su eventi",
    "StartEvent": "Evento di inizio", "EndEvent": "Evento di fine", "IntermediateCatchEvent": "Evento intermedio",
    "IntermediateThrowEvent": "Evento intermedio (invio)", "SendTask": "Invio messaggio",
    "ReceiveTask": "Ricezione messaggio", "BoundaryEvent": "Evento di bordo", "SubWorkflowTask": "Sottoprocesso",
    "TransactionSubprocess": "Transazione", "CallActivity": "Attività di chiamata",
}
ATTRIBUTES = {
    "script": "script", "extensions": "proprietà (modulo, istruzioni, script)", "event_definition": "evento",
    "cond_task_specs": "condizioni dei flussi", "default_task_spec": "flusso predefinito",
    "decision_table": "tabella di decisione", "operation_name": "servizio chiamato",
    "operation_params": "parametri del servizio", "result_variable": "variabile del risultato",
    "typename": "tipo di elemento", "prescript": "script iniziale", "postscript": "script finale",
    "data_input_associations": "dati in ingresso", "data_output_associations": "dati in uscita",
    "io_specification": "dati in ingresso e uscita", "manual": "esecuzione manuale", "lookahead": "previsione",
    "spec": "processo chiamato", "cancel_activity": "interruzione", "bpmn_name": "nome", "lane": "corsia",
    "documentation": "documentazione", "description": "descrizione",
}


def kind(name: str) -> str:
    """An element type in Italian."""
    for key, label in ELEMENT_KINDS.items():
        if key in name:
            return label
    return name


def attributes(names: list[str] | tuple[str, ...]) -> str:
    """Changed attributes in Italian."""
    return ", ".join(ATTRIBUTES.get(n, n) for n in names)


def issue(item: Mapping[str, Any]) -> str:
    """One reason a migration is refused, in Italian (from an issue or its stored form)."""
    get = item.get if isinstance(item, Mapping) else lambda k, d=None: getattr(item, k, d)
    where = f"«{get('element_name') or get('element_id')}»" if (get("element_name") or get("element_id")) else "il processo"
    state = STATE_NAMES.get(str(get("state") or ""), str(get("state") or "").lower())
    texts = {
        "removed_ran": f"{where} è già stato eseguito e nella nuova versione non esiste più.",
        "removed_current": f"L'istanza si trova su {where} ({state}), che nella nuova versione non esiste più.",
        "changed_ran": f"{where} è già stato eseguito ed è stato modificato ({attributes(list(get('attributes') or []))}).",
        "subprocess_missing": f"Il sottoprocesso in corso {where} non esiste nella nuova versione.",
        "would_not_load": f"L'istanza migrata non si potrebbe più caricare ({get('detail') or get('text') or ''}).",
    }
    return texts.get(str(get("kind")), str(get("text") or get("detail") or ""))


def note(item: Any) -> str:
    """What the administrator should know about a migration that can go ahead."""
    where = f"«{item.element_name or item.element_id}»"
    if item.kind == "timer_kept":
        return f"{where} resta in attesa con la stessa scadenza."
    if item.kind == "task_reset":
        changed = f" (modificata: {attributes(list(item.attributes))})" if item.attributes else ""
        return f"L'attività aperta {where} prosegue sulla nuova versione{changed}; la bozza è conservata."
    return f"{where} è modificato nella nuova versione ({attributes(list(item.attributes))})."


def outcome(code: str | None, message: str | None = None) -> str:
    """An operation outcome in Italian."""
    return OUTCOMES.get(code or "", message or "")


REFUSALS = {
    "not-suspended": "Solo un'istanza sospesa può essere ripresa o modificata.",
    "not-in-error": "Solo un'istanza in errore può ripetere il passo.",
    "cannot-suspend": "L'istanza non può essere sospesa nello stato attuale.",
    "already-ended": "L'istanza è già conclusa o chiusa.",
    "changed-meanwhile": "L'istanza è stata modificata da altri nel frattempo: ricaricare la pagina e riprovare.",
    "wrong-target-version": "Si può migrare solo a una versione più recente dello stesso processo.",
}


def service_error(operation: str, code: str | None) -> str:
    """A refused single operation, in Italian, from the failure's code (`GolError.code`)."""
    return REFUSALS.get(code or "", f"Operazione «{OPERATIONS.get(operation, operation)}» non eseguita.")

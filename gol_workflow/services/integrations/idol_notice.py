"""What the case file tells the operator when IDOL refused or did not get a decision: never a silent loss."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..workflow.runtime import Runtime

DECISIONS = {
    "presa_in_carico": "presa in carico",
    "rinvio": "rinvio a una prossima riunione",
    "non_attivabile": "percorso non attivabile",
}
WHAT = {"scheda_esito": "la scheda di esito", "appuntamento": "l'appuntamento con il case manager"}


def notice_for(rt: Runtime, case: Mapping[str, Any], event: Mapping[str, Any] | None) -> str | None:
    """An Italian notice when the case is held at an IDOL step that IDOL refused or did not confirm.

    `event` is the case's latest `idol.*` audit event, read by the caller with the rest of the file.
    """
    if case.get("status") != "error" or event is None:
        return None
    if event is None or event["action"] not in ("idol.refused", "idol.failed"):
        return None
    data = event["data"] if isinstance(event["data"], Mapping) else {}
    what = WHAT.get(str(data.get("oggetto")), "il documento")
    decision = DECISIONS.get(str(data.get("decisione") or ""))
    subject = f"{what} (decisione: {decision})" if decision else what
    reason = f" Motivo indicato da IDOL: «{data['motivo']}»." if data.get("motivo") else ""
    retry = _next_try(rt, case.get("next_due_at"))
    if event["action"] == "idol.refused":
        return (f"IDOL ha rifiutato {subject}.{reason} Nel fascicolo la decisione è registrata, in IDOL non ancora: "
                f"correggere quanto indicato e chiedere a un amministratore di ripetere il passo dalla pagina "
                f"Incidenti.{retry}")
    return (f"IDOL non ha confermato la ricezione di {subject}.{reason} Il servizio ripete l'invio "
            f"automaticamente con la stessa chiave, senza duplicati;{retry or ' i tentativi automatici sono finiti:'}"
            f" se non basta, un amministratore ripete il passo dalla pagina Incidenti.")


def _next_try(rt: Runtime, due: Any) -> str:
    if not isinstance(due, datetime):
        return ""
    local = due.astimezone(ZoneInfo(rt.settings.timezone))
    return f" Prossimo tentativo automatico: {local:%d/%m/%Y} alle {local:%H:%M}."

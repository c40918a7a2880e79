"""The kinds of incident and what each means, in the words an administrator reads."""

from __future__ import annotations

# kind -> (what happened, what usually fixes it)
KINDS: dict[str, tuple[str, str]] = {
    "script_timeout": ("Uno script del processo ha impiegato troppo tempo ed è stato fermato.",
                       "Di solito serve correggere lo script in una nuova versione del processo e migrare il caso."),
    "script_limit": ("Uno script del processo ha superato i limiti di memoria o di dimensione.",
                     "Di solito serve correggere lo script in una nuova versione del processo e migrare il caso."),
    "script_refused": ("Uno script del processo ha usato qualcosa che non è permesso.",
                       "Serve correggere lo script in una nuova versione del processo."),
    "script_syntax": ("Uno script o una condizione del processo è scritto in modo errato.",
                      "Serve correggere il diagramma in una nuova versione del processo e migrare il caso."),
    "missing_variable": ("Manca un dato che il passo si aspettava di trovare nel caso.",
                         "Si può aggiungere il dato mancante e riprovare, oppure saltare il passo."),
    "missing_field": ("Un dato del caso è incompleto: manca una voce che il passo legge.",
                      "Si può completare il dato e riprovare, oppure saltare il passo."),
    "arithmetic": ("Un calcolo del passo non si può fare con i dati del caso (per esempio una divisione per zero).",
                   "Si possono correggere i dati e riprovare."),
    "wrong_value": ("Un dato del caso ha un valore o un tipo che il passo non sa trattare.",
                    "Si può correggere il dato e riprovare."),
    "service_unavailable": ("Il servizio esterno chiamato da questo passo non è configurato.",
                            "Serve configurare il servizio, poi riprovare."),
    "service": ("Un servizio esterno non ha risposto o ha rifiutato la richiesta.",
                "Di solito basta riprovare quando il servizio torna disponibile."),
    "no_path": ("Nessuna delle strade che escono da questa decisione corrisponde ai dati del caso.",
                "Si possono correggere i dati e riprovare, oppure spostare il caso."),
    "subprocess": ("Il sottoprocesso chiamato da questo passo non è disponibile.",
                   "Serve pubblicare il sottoprocesso, poi riprovare."),
    "scheduler_set_aside": ("Lo scheduler ha tentato più volte questo passo senza riuscirci ed è stato messo da parte.",
                            "Riprovare lo rimette in coda allo scheduler."),
    "engine": ("Il motore dei processi si è fermato su questo passo.",
               "Leggere il dettaglio tecnico; riprovare, saltare il passo o spostare il caso."),
    "unknown": ("Errore registrato prima che gli errori fossero classificati.",
                "Leggere il dettaglio tecnico; riprovare, saltare il passo o spostare il caso."),
}


def explain(kind: str) -> tuple[str, str]:
    """What happened and what usually fixes it, for a kind (an unknown kind reads as the engine's)."""
    return KINDS.get(kind) or KINDS["engine"]

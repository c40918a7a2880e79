"""The Italian text of each letter, as Jinja templates (plain text: one paragraph per blank line)."""

from __future__ import annotations

# Attachment kind -> how the case file names the letter.
KINDS: dict[str, str] = {
    "lettera_convocazione": "Lettera di convocazione all'equipe",
    "lettera_esito": "Lettera con la decisione dell'equipe",
    "lettera_appuntamento": "Lettera del primo appuntamento",
    "progetto_da_firmare": "Progetto individualizzato da firmare",
}

SUBJECTS: dict[str, str] = {
    "lettera_convocazione": "Convocazione all'equipe multidisciplinare GOL Percorso 4",
    "lettera_esito": "Esito dell'equipe multidisciplinare GOL Percorso 4",
    "lettera_appuntamento": "Primo appuntamento con il case manager GOL Percorso 4",
}

_CONTACT = """Per qualsiasi informazione può rivolgersi a {{ cpi.name }}{% if cpi.address %}, {{ cpi.address }}{% endif %}{% if cpi.email %} (e-mail {{ cpi.email }}){% endif %}."""

TEMPLATES: dict[str, str] = {
    "lettera_convocazione": """Gentile {{ nome }} {{ cognome }},

nell'ambito del programma GOL, Percorso 4 «Lavoro e Inclusione», il Centro per l'Impiego ha iscritto il Suo percorso all'equipe multidisciplinare della {{ zona }}, che riunisce il Centro per l'Impiego, i Servizi Sociali e, se necessario, i servizi specialistici che La seguono.

La invitiamo a partecipare all'incontro dell'equipe:

  {{ quando }}
  presso {{ luogo }}

Durante l'incontro valuteremo insieme a Lei i percorsi e le misure più adatti alla Sua situazione. Porti con sé un documento di identità.

Se non può partecipare, La preghiamo di avvisarci prima dell'incontro.

""" + _CONTACT,
    "lettera_esito": """Gentile {{ nome }} {{ cognome }},

Le comunichiamo l'esito dell'equipe multidisciplinare GOL Percorso 4 «Lavoro e Inclusione» della {{ zona }} riunita {{ quando }}.

{% if decisione == "presa_in_carico" %}L'equipe ha deciso la presa in carico integrata nel Percorso 4. {% if misure %}Le misure individuate sono: {{ misure }}. {% endif %}A breve riceverà l'appuntamento con il case manager che La seguirà per i prossimi 12 mesi ed elaborerà con Lei il progetto individualizzato.{% elif decisione == "rinvio" %}L'equipe ha rinviato la decisione a una prossima riunione{% if motivazione %} per il seguente motivo: {{ motivazione }}{% endif %}. La informeremo dell'esito.{% else %}L'equipe ha ritenuto il Percorso 4 non attivabile{% if motivazione %} per il seguente motivo: {{ motivazione }}{% endif %}. Resta seguito/a dai servizi che già La hanno in carico e può rivolgersi al Centro per l'Impiego per le altre opportunità del programma GOL.{% endif %}

""" + _CONTACT,
    "lettera_appuntamento": """Gentile {{ nome }} {{ cognome }},

in seguito alla decisione dell'equipe multidisciplinare, è fissato il Suo primo appuntamento con il case manager del Percorso 4 «Lavoro e Inclusione»:

  {{ quando }}
  presso {{ luogo }}
  case manager: {{ case_manager }}

Al primo colloquio inizia il Suo percorso individuale di 12 mesi. Porti con sé un documento di identità. Se non può presentarsi, La preghiamo di avvisarci per fissare un nuovo appuntamento.

""" + _CONTACT,
}

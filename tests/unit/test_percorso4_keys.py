"""Generic code names no Percorso 4 data key and no Percorso 4 role: the process's data are declared
beside its BPMN, its roles and what each may do in the role file (processes/roles.toml).

The keys below are those of Percorso 4's case data (processes/percorso4.bpmn and its forms). Not
listed: "codice_fiscale" and "case_manager", which are also the names of the service's own case
header facts and columns (gol_workflow/domain/case_facts.py), whatever a process calls them.
"""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "gol_workflow"

PERCORSO4_KEYS = (
    "zona", "beneficiario", "servizi_specialistici", "bisogni_particolari", "bisogni_complessi",
    "conosciuto_servizio_sociale", "scheda_esito", "esito_equipe", "data_equipe", "caso", "motivo_equipe",
    "data_avvio_percorso", "data_fine_percorso", "data_primo_appuntamento", "data_monitoraggio_finale",
)

# The Percorso 4 configuration written in Python: modules that exist for Percorso 4 alone and may
# read its data by name.
PERCORSO4_CONFIGURATION = {
    "services/meetings/": "the equipe meetings of Percorso 4, step 3 (booking, agenda, minutes by e-mail)",
    "services/integrations/idol.py": "IDOL, the regional system Percorso 4 reports to",
    "services/integrations/idol_http.py": "IDOL's HTTP client",
    "services/integrations/idol_steps.py": "the Percorso 4 service tasks that call IDOL",
    "services/integrations/idol_notice.py": "what operators are told when IDOL fails",
    "services/cases/monitoring.py": "the monitoring in itinere of Percorso 4, step 6",
    "services/cases/case_story.py": "the story of a Percorso 4 case: its steps and messages told in words",
    "services/cases/project.py": "the individual project of Percorso 4, step 5, which follows the scheda",
    "services/letters/": "the letters of Percorso 4 to the person: convocation, each decision, the appointment",
    "services/cases/data_masking.py": "which Percorso 4 data are personal",
    "services/cases/case_file.py": "the scheda di esito in the case file",
    "services/cases/attachments.py": "the scheda di esito as an attachment kind",
    "services/administration/demo.py": "the demo cases of Percorso 4",
    "migrations/": "the history of the schema",
}

# Italian words of the interface or of other files that happen to be spelled like a data key:
# only these words, only in these modules.
SAME_WORD = {
    "web/admin/listing.py": {"zona", "beneficiario"},  # query parameters of the instance list
    "services/administration/saved_views.py": {"zona", "beneficiario"},  # the same parameters, kept in a view
    "web/case_list.py": {"zona"},  # query parameter of the case list
    "web/inbox.py": {"zona"},  # query parameter of the inbox
    "web/indicators.py": {"zona"},  # query parameter of the indicators page
    "services/indicators/export.py": {"zona"},  # a column of the indicators' export
    "services/administration/subject_access.py": {"zona"},  # a member of the art. 15 export, in Italian
    "services/cases/case_document.py": {"beneficiario"},  # the word a document's file name falls back to
    "persistence/inbox_search.py": {"beneficiario"},  # a sort order's name
    "api/schemas/tasks.py": {"beneficiario"},  # the same sort order's name in the API
    "services/cases/scheda_document.py": {"beneficiario"},  # the word a document's file name falls back to
    "domain/zones.py": {"servizi_specialistici"},  # a key of the zone files
    "services/workflow/form_options.py": {"zona", "servizi_specialistici"},  # `x-options` source names
    "domain/labels.py": {"esito_equipe"},  # a BPMN message's name, with its Italian words
}

LITERAL = re.compile(r"""["'](""" + "|".join(PERCORSO4_KEYS) + r""")["']""")


def _named(path: Path) -> set[str]:
    return set(LITERAL.findall(path.read_text(encoding="utf-8")))


def test_no_module_outside_the_percorso4_configuration_names_a_percorso4_data_key() -> None:
    offending = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if any(relative.startswith(prefix) for prefix in PERCORSO4_CONFIGURATION):
            continue
        named = _named(path) - SAME_WORD.get(relative, set())
        if named:
            offending[relative] = sorted(named)
    assert offending == {}


def test_the_engine_and_the_step_writer_name_none_at_all() -> None:
    for module in ("engine/runner.py", "engine/parsing.py", "services/workflow/stepping.py",
                   "services/access/authorization.py", "services/cases/case_records.py"):
        assert _named(PACKAGE / module) == set(), module


def test_the_check_sees_a_key_where_it_is_written() -> None:
    assert _named(PACKAGE / "services/meetings/equipe.py") >= {"zona", "beneficiario"}


# Percorso 4's roles (processes/roles.toml): generic code reads what a role may do from the role file.
PERCORSO4_ROLES = ("cpi", "sds", "ats", "specialist", "manager", "analyst", "admin")
ROLE_LITERAL = re.compile(r"""["'](""" + "|".join(PERCORSO4_ROLES) + r""")["']""")

# The same words as something else: keys of the zone files, a blueprint's name.
SAME_ROLE_WORD = {
    "domain/zones.py": {"cpi", "sds", "ats"},  # tables of a zone file ([[cpi]], [ats], sds)
    "api/zones.py": {"cpi", "sds"},  # the members of a zone in the API, named after the zone file
    "web/admin/blueprint.py": {"admin"},  # the admin console blueprint's name (its URLs, /admin)
}


def test_no_module_outside_the_percorso4_configuration_names_a_percorso4_role() -> None:
    offending = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if any(relative.startswith(prefix) for prefix in PERCORSO4_CONFIGURATION):
            continue
        named = set(ROLE_LITERAL.findall(path.read_text(encoding="utf-8"))) - SAME_ROLE_WORD.get(relative, set())
        if named:
            offending[relative] = sorted(named)
    assert offending == {}


def test_authorization_names_no_role_at_all() -> None:
    text = (PACKAGE / "services/access/authorization.py").read_text(encoding="utf-8")
    assert ROLE_LITERAL.findall(text) == []

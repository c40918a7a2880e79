"""Service-task operators the process files may call, by name."""

from __future__ import annotations

from ..meetings.agenda_mail import equipe_invia_odg
from .idol_steps import install_idol
from ..cases.project import install_project
from ..letters.steps import install_letters
from ..meetings.discussions import equipe_avvia_discussioni
from ..meetings.equipe import equipe_iscrivi
from ..meetings.equipe_participation import install_participation
from ..workflow.runtime import Runtime


def register_connectors(runtime: Runtime) -> None:
    """Install every connector the shipped processes use, with the equipe scheda's participation check."""
    runtime.connectors["equipe_iscrivi"] = equipe_iscrivi
    runtime.connectors["equipe_invia_odg"] = equipe_invia_odg
    runtime.connectors["equipe_avvia_discussioni"] = equipe_avvia_discussioni
    install_participation(runtime)
    install_idol(runtime)
    install_letters(runtime)
    install_project(runtime)

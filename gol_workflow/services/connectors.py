"""Service-task operators the process files may call, by name."""

from __future__ import annotations

from .agenda_mail import equipe_invia_odg
from .idol_steps import install_idol
from .meetings import equipe_iscrivi
from .runtime import Runtime


def register_connectors(runtime: Runtime) -> None:
    """Install every connector the shipped processes use."""
    runtime.connectors["equipe_iscrivi"] = equipe_iscrivi
    runtime.connectors["equipe_invia_odg"] = equipe_invia_odg
    install_idol(runtime)

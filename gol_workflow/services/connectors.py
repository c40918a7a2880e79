"""Service-task operators the process files may call, by name."""

from __future__ import annotations

from .runtime import Runtime


def register_connectors(runtime: Runtime) -> None:
    """Install every connector the shipped processes use."""
    # Percorso 4 connectors (equipe agenda, IDOL) register here as they are added.
    return None

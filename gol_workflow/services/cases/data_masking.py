"""Which case data is sensitive (health and social data, GDPR art. 9) and how it is hidden until opened."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Top-level keys whose whole value is personal, social or health data.
SENSITIVE_KEYS = frozenset({
    "beneficiario",
    "scheda_esito",
    "esito_equipe",
    "esito_caso",
    "servizi_specialistici",
    "bisogni_particolari",
    "caso",
    "casi",
    "esiti",
    "scheda_definitiva",
    "conferma_partecipante",
    "conferme",
    "dissensi",
    "richiesta_monitoraggio",
    "sintesi_monitoraggio",
    "descrizione_modifica",
    "motivazione",
    "impegni_beneficiario",
    "sostegni_servizi",
    "obiettivi",
    "modifiche_concordate",
})
# Free-text fields hold whatever the operator wrote: treated as sensitive wherever they appear.
SENSITIVE_PARTS = ("note", "nota", "sanitari", "salute", "diagnosi")

MASK = "••••••"


def is_sensitive(key: str) -> bool:
    """True for a top-level key that must stay hidden until someone opens it."""
    lowered = key.lower()
    return lowered in SENSITIVE_KEYS or any(part in lowered for part in SENSITIVE_PARTS)


def sensitive_keys(data: Mapping[str, Any]) -> list[str]:
    """The sensitive top-level keys present in some data, sorted."""
    return sorted(key for key in data if is_sensitive(key))


def masked(data: Mapping[str, Any], revealed: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A copy with every sensitive top-level value replaced by the mask, except those revealed."""
    return {key: (MASK if is_sensitive(key) and key not in revealed else value) for key, value in data.items()}

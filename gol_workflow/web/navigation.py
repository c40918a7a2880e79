"""What the header menu offers this person; other areas (admin console) add entries here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, g, url_for

from ..domain.model import Actor
from ..services.access import authorization
from ..services.cases import case_start
from .context import runtime

NAV_KEY = "gol_nav"


@dataclass(frozen=True)
class NavEntry:
    """A menu entry shown when `visible(actor)` is true."""

    label: str
    endpoint: str
    visible: Callable[[Actor], bool]


def add_nav_entry(app: Flask, entry: NavEntry) -> None:
    """Add a header menu entry (e.g. the admin console's)."""
    app.extensions.setdefault(NAV_KEY, []).append(entry)


def init_app(app: Flask) -> None:
    """Expose the menu helpers to templates."""

    @app.context_processor
    def _helpers() -> dict[str, object]:
        def can_start_cases() -> bool:
            user = g.get("user")
            if user is None:
                return False
            if "can_start_cases" not in g:  # asked by the header and again by the page
                g.can_start_cases = case_start.may_start_any(runtime(), user.actor())
            return bool(g.can_start_cases)

        def can_read_agenda() -> bool:
            user = g.get("user")
            return user is not None and bool(authorization.agenda_zones(user.actor(), sorted(runtime().zones)))

        def extra_nav() -> list[dict[str, str]]:
            user = g.get("user")
            if user is None:
                return []
            return [{"label": e.label, "url": url_for(e.endpoint)}
                    for e in app.extensions.get(NAV_KEY, []) if e.visible(user.actor())]

        return {"can_start_cases": can_start_cases, "can_read_agenda": can_read_agenda, "extra_nav": extra_nav}

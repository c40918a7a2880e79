"""The admin console: instances, one instance and its repairs, batch operations, incidents, processes, scheduler."""

from __future__ import annotations

from flask import Flask

from ...services.access import authorization
from ..navigation import NavEntry, add_nav_entry
from . import (  # noqa: F401 - routes
    accounts, batches, data_protection, definitions, detail, heat, incidents, listing, modeler, moves, repairs,
    saved_views, scheduler_page,
)
from .blueprint import bp


def init_app(app: Flask) -> None:
    """Register the console and its menu entries (administration for admins, processes for analysts)."""
    app.register_blueprint(bp)
    add_nav_entry(app, NavEntry("Amministrazione", "admin.instances", lambda a: authorization.is_admin_role(a.role)))
    add_nav_entry(app, NavEntry("Processi", "admin.definitions",
                                lambda a: authorization.may_deploy(a.role) and not authorization.is_admin_role(a.role)))

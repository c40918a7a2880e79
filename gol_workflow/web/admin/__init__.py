"""The admin console: instances, one instance and its repairs, batch operations, incidents, processes, scheduler."""

from __future__ import annotations

from flask import Flask

from ..navigation import NavEntry, add_nav_entry
from . import (batches, data_protection, definitions, detail, heat, incidents, listing, modeler, repairs,  # noqa: F401 - routes
               saved_views, scheduler_page)
from .blueprint import bp


def init_app(app: Flask) -> None:
    """Register the console and its menu entries (administration for admins, processes for analysts)."""
    app.register_blueprint(bp)
    add_nav_entry(app, NavEntry("Amministrazione", "admin.instances", lambda a: a.role == "admin"))
    add_nav_entry(app, NavEntry("Processi", "admin.definitions", lambda a: a.role == "analyst"))

"""Who runs the service, for the page header and footer: from the zone files and GOL_SERVICE_NAME."""

from __future__ import annotations

from flask import Flask

from ..services.meetings.zones import ServiceIdentity, identity
from .context import runtime


def init_app(app: Flask) -> None:
    """Make `service` (title, territory, footer) available to every template."""

    @app.context_processor
    def _identity() -> dict[str, ServiceIdentity]:
        rt = runtime()
        return {"service": identity(rt.zones, rt.settings.service_name)}

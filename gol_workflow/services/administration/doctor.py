"""`doctor`: every configuration problem of an installation found at once, in plain words."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Callable
from dataclasses import dataclass

from ...config import ConfigurationError, Settings, read_settings
from ...persistence import schema
from ...persistence.database import create_db_engine, printable_url
from ..meetings.zones import ZoneConfigError, load_zones
from . import deployment


@dataclass(frozen=True)
class Finding:
    """One check: its subject, whether it passed, and what was found (or how to fix it)."""

    subject: str
    ok: bool
    detail: str


def examine(env: dict[str, str] | None = None, smtp_probe: bool = True) -> list[Finding]:
    """Check the settings, the database and its schema, zones, processes, forms, SMTP and IDOL."""
    settings, problems = read_settings(env)
    if settings is None:
        return [Finding("settings", False, problem) for problem in problems]
    findings = [Finding("settings", True, "every GOL_* setting reads correctly")]
    findings += _database(settings)
    findings.append(_zones(settings))
    findings.append(_processes(settings))
    if smtp_probe:
        findings.append(_smtp(settings))
    findings.append(_idol(settings))
    return findings


def _database(settings: Settings) -> list[Finding]:
    try:
        engine = create_db_engine(settings.database_url, pool_size=1,
                                  transaction_pooler=settings.database_pooler == "transaction")
        current, head = schema.current_revision(engine), schema.head_revision()
        engine.dispose()
    except Exception as exc:  # any failure to connect is this check's finding, not the command's crash
        return [Finding("database", False, f"cannot connect to {printable_url(settings.database_url)}: "
                                           f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")]
    found = [Finding("database", True, f"connected to {printable_url(settings.database_url)}")]
    if current == head:
        found.append(Finding("schema", True, f"at the latest migration ({head})"))
    else:
        found.append(Finding("schema", False, f"at {current or 'no migration'}, the code needs {head}: "
                                              "run `gol-workflow db upgrade`"))
    return found


def _zones(settings: Settings) -> Finding:
    if not settings.zones_dir.is_dir():
        return Finding("zones", False, f"GOL_ZONES_DIR {settings.zones_dir} is not a folder")
    try:
        zones = load_zones(settings.zones_dir)
    except ZoneConfigError as exc:
        return Finding("zones", False, str(exc))
    if not zones:
        return Finding("zones", False, f"no zone file (*.toml) in {settings.zones_dir}")
    return Finding("zones", True, f"{len(zones)} zone(s): {', '.join(sorted(zones))}")


def _processes(settings: Settings) -> Finding:
    if not settings.processes_dir.is_dir():
        return Finding("processes", False, f"GOL_PROCESSES_DIR {settings.processes_dir} is not a folder")
    forms = settings.forms_dir if settings.forms_dir.is_dir() else None
    try:
        sources, result = deployment.validate_path(settings.processes_dir, forms)
    except Exception as exc:  # a folder the validator cannot read is reported like any other problem
        return Finding("processes", False, f"{settings.processes_dir}: {exc}")
    if result.problems:
        first = result.problems[0]
        more = f" (and {len(result.problems) - 1} more: run `gol-workflow validate`)" if len(result.problems) > 1 else ""
        return Finding("processes", False, f"{sources.where(first.file)}:{first.line}: {first.message}{more}")
    return Finding("processes", True, f"{result.files} file(s), {len(result.process_ids)} executable process(es), "
                                      f"{result.forms} form(s) valid")


def _smtp(settings: Settings, connect: Callable[..., smtplib.SMTP] | None = None) -> Finding:
    smtp = settings.smtp
    where = f"{smtp.host}:{smtp.port}"
    try:
        factory = connect or (smtplib.SMTP_SSL if smtp.security == "tls" else smtplib.SMTP)
        with factory(smtp.host, smtp.port, timeout=min(smtp.timeout, 5.0)) as server:
            server.ehlo()
            if smtp.security == "starttls":
                server.starttls()
            if smtp.username and smtp.password:
                server.login(smtp.username, smtp.password)
    except (OSError, smtplib.SMTPException, socket.timeout) as exc:
        return Finding("smtp", False, f"the mail server {where} did not accept a session: {type(exc).__name__}: {exc}")
    return Finding("smtp", True, f"the mail server {where} answers" + (" and accepts the login" if smtp.username
                                                                         else ""))


def _idol(settings: Settings) -> Finding:
    if not settings.idol_url:
        return Finding("idol", True, "no IDOL configured: the built-in agenda is used")
    from ..integrations.idol_http import check_url

    try:
        check_url(settings.idol_url)
    except ConfigurationError as exc:
        return Finding("idol", False, str(exc))
    if not settings.idol_token:
        return Finding("idol", False, "GOL_IDOL_URL is set but GOL_IDOL_TOKEN is not")
    return Finding("idol", True, f"IDOL at {settings.idol_url}")

"""`doctor`: every configuration problem of an installation found at once, in plain words."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Callable
from dataclasses import dataclass

from ...config import ConfigurationError, Settings, read_settings
from ...persistence import schema
from ...persistence.database import create_db_engine, printable_url
from ..access import roles, single_sign_on
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
    findings.append(_roles(settings))
    findings.append(_single_sign_on(settings))
    findings.append(_processes(settings))
    if smtp_probe:
        findings.append(_smtp(settings))
    findings.append(_idol(settings))
    return findings


def startup_problems(settings: Settings, probe_provider: bool = False) -> list[str]:
    """Every problem of the role file and of single sign-on, checked when a process starts.

    `probe_provider` also reads the provider's discovery document (the web, which needs it).
    """
    problems: list[str] = []
    declared: set[str] | None = None  # unknown when the file cannot be read at all
    try:
        text = settings.roles_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{settings.roles_file}:1: cannot be read ({exc})")
    else:
        parsed, found = roles.parse(text, str(settings.roles_file))
        problems += [str(problem) for problem in found]
        # A role with a mistake is still declared: the mapping is checked against every name in the file.
        declared = (set(parsed.names()) | {p.element for p in found if p.element}) or None
    if settings.oidc is not None:
        if declared is not None:
            problems += single_sign_on.mapping_problems(settings.oidc, declared)
        if probe_provider:
            problems += single_sign_on.provider_problems(settings.oidc)
    return problems


def _roles(settings: Settings) -> Finding:
    try:
        declared = roles.load(settings.roles_file)
    except roles.RoleFileError as exc:
        return Finding("roles", False, "; ".join(str(problem) for problem in exc.problems))
    return Finding("roles", True, f"{len(declared.names())} role(s) in {settings.roles_file}: "
                                  f"{', '.join(declared.names())}")


def _single_sign_on(settings: Settings) -> Finding:
    oidc = settings.oidc
    if oidc is None:
        return Finding("sso", True, "no single sign-on configured: people log in with local accounts")
    try:
        problems = single_sign_on.mapping_problems(oidc, roles.load(settings.roles_file).names())
    except roles.RoleFileError:
        problems = []  # the roles finding reports the role file
    problems += single_sign_on.provider_problems(oidc)
    if problems:
        return Finding("sso", False, "; ".join(problems))
    source = (f"roles from the claim {oidc.roles_claim!r}" if oidc.roles_claim
              else "roles given by an administrator on first login")
    return Finding("sso", True, f"the identity provider {oidc.issuer} answers; {source}")


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

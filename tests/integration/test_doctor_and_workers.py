"""`gol-workflow doctor` reports every problem at once; `/metrics` adds up every gunicorn worker's counts."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gol_workflow.config import ConfigurationError, load_settings
from gol_workflow.services.administration import doctor

from .scheduling_support import SmtpServer, free_port

ROOT = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "gol-workflow")


def _env(tmp_path: Path, db_url: str, **extra: str) -> dict[str, str]:
    return {"GOL_VAR_DIR": str(tmp_path / "var"), "GOL_DATABASE_URL": db_url, "GOL_SECRET_KEY": "k" * 40,
            "GOL_PROCESSES_DIR": str(ROOT / "processes"), "GOL_FORMS_DIR": str(ROOT / "forms"),
            "GOL_ZONES_DIR": str(ROOT / "zones"), **extra}


def test_every_settings_problem_is_reported_at_once(tmp_path: Path) -> None:
    env = {"GOL_VAR_DIR": str(tmp_path), "GOL_PRODUCTION": "1", "GOL_SMTP_PORT": "venticinque",
           "GOL_DIGEST_HOUR": "25", "GOL_LOG_FORMAT": "xml", "GOL_SESSION_IDLE_MINUTES": "0"}
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env)
    problems = caught.value.problems
    assert len(problems) == 5
    for name in ("GOL_SECRET_KEY", "GOL_SMTP_PORT", "GOL_DIGEST_HOUR", "GOL_LOG_FORMAT", "GOL_SESSION_IDLE_MINUTES"):
        assert any(name in problem for problem in problems), name
    findings = doctor.examine(env)
    assert [f.ok for f in findings] == [False] * 5 and all(f.subject == "settings" for f in findings)


def test_doctor_checks_database_schema_zones_processes_and_a_real_mail_server(tmp_path: Path, db_url: str) -> None:
    server = SmtpServer()
    server.start()
    try:
        findings = {f.subject: f for f in doctor.examine(_env(tmp_path, db_url, GOL_SMTP_HOST="127.0.0.1",
                                                              GOL_SMTP_PORT=str(server.port)))}
    finally:
        server.stop()
    assert all(f.ok for f in findings.values()), [f for f in findings.values() if not f.ok]
    assert set(findings) == {"settings", "database", "schema", "zones", "roles", "sso", "processes", "smtp", "idol"}
    assert "pistoiese" in findings["zones"].detail and "executable process" in findings["processes"].detail


def test_doctor_names_each_broken_part(tmp_path: Path) -> None:
    zones = tmp_path / "zones"
    zones.mkdir()
    (zones / "rotta.toml").write_text("id = [", encoding="utf-8")
    env = _env(tmp_path, f"sqlite:///{tmp_path / 'vuoto.sqlite3'}", GOL_ZONES_DIR=str(zones),
               GOL_SMTP_HOST="127.0.0.1", GOL_SMTP_PORT=str(free_port()),
               GOL_IDOL_URL="http://idol.example.it/api", GOL_IDOL_TOKEN="t")
    findings = {f.subject: f for f in doctor.examine(env)}
    assert not findings["schema"].ok and "gol-workflow db upgrade" in findings["schema"].detail
    assert not findings["zones"].ok and "rotta.toml" in findings["zones"].detail
    assert not findings["smtp"].ok and "did not accept" in findings["smtp"].detail
    assert not findings["idol"].ok and "https" in findings["idol"].detail
    result = subprocess.run([CLI, "doctor"], env={**os.environ, **env},
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 1 and "4 problem(s)" in result.stdout
    assert re.search(r"^FAIL\s+zones\s+rotta\.toml", result.stdout, re.M)


def _get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # a new connection each time
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_metrics_add_up_every_worker(tmp_path: Path, db_url: str) -> None:
    env = {**os.environ, **_env(tmp_path, db_url, GOL_EMBEDDED_SCHEDULER="0")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    subprocess.run([CLI, "db", "upgrade"], env=env, check=True,
                   capture_output=True, timeout=120)
    port = free_port()
    server = subprocess.Popen([CLI, "serve", "--port", str(port),
                               "--workers", "2", "--threads", "1"], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        asked = 40
        for _ in range(asked):
            assert _get(port, "/healthz")[0] == 200
        counts = set()
        for _ in range(6):  # whichever worker answers the scrape, it reports the whole service
            status, text = _get(port, "/metrics")
            assert status == 200
            match = re.search(r'^gol_http_request_duration_seconds_count\{method="GET",route="/healthz",'
                              r'status="2xx"\} ([0-9.]+)$', text, re.M)
            assert match, text[:2000]
            counts.add(float(match.group(1)))
        assert counts == {float(asked + 1)}
        pids = set(re.findall(r'pid="(\d+)"', text)) if 'pid="' in text else set()
        assert not pids or len(pids) <= 2
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    assert "Traceback" not in errors, errors[-3000:]

"""`serve`: the embedded scheduler starts in one process only; the WSGI entry builds the app from the environment."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from gol_workflow.cli import web as serve


@pytest.fixture
def starts(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    calls: list[object] = []
    monkeypatch.setattr(serve, "scheduler_starter", lambda: calls.append)
    monkeypatch.setattr(serve, "_held_lock", [])
    return calls


def test_embedded_scheduler_starts_once_per_process(runtime, starts) -> None:
    assert serve.start_scheduler_once(runtime) is True
    assert serve.start_scheduler_once(runtime) is False
    assert starts == [runtime]
    serve._held_lock[0].close()


def test_a_second_process_does_not_start_another(runtime, starts) -> None:
    lock = runtime.settings.var_dir / serve.LOCK_NAME
    lock.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, sys, time
        handle = open({str(lock)!r}, "w")
        fcntl.flock(handle, fcntl.LOCK_EX)
        print("held", flush=True)
        sys.stdin.read()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    with holder:
        assert holder.stdout.readline().strip() == "held"
        assert serve.start_scheduler_once(runtime) is False and starts == []
        holder.stdin.close()
        holder.wait(timeout=10)
    assert serve.start_scheduler_once(runtime) is True  # the lock is free once the other worker is gone
    serve._held_lock[0].close()


def test_wsgi_entry_builds_the_app_from_the_environment(db_url, tmp_path, monkeypatch) -> None:
    from gol_workflow.web import wsgi

    monkeypatch.setenv("GOL_DATABASE_URL", db_url)
    monkeypatch.setenv("GOL_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GOL_SECRET_KEY", "una-chiave-di-prova")
    app = wsgi.create()
    response = app.test_client().get("/salute")
    assert response.status_code == 200 and response.get_json() == {"stato": "ok"}
    assert app.config["SECRET_KEY"] == "una-chiave-di-prova"

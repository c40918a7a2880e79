"""Forms reach only themselves and the other deployed forms: no URL or file is fetched, at deploy or after."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select, update

from gol_workflow.domain.errors import DeploymentFailed
from gol_workflow.persistence.tables import process_versions
from gol_workflow.services.administration import deployment
from gol_workflow.services.workflow import tasks as task_service
from tests.conftest import ADMIN, DATA

from .conftest import actor_of, ready, start_case

PROFILE = "profilo.schema.json"


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that counts the requests it gets; yields its base URL and the paths asked."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server interface
            hits.append(self.path)
            body = json.dumps({"type": "string"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _forms_with(tmp_path: Path, note: dict[str, object], extra: dict[str, str] | None = None) -> Path:
    forms = tmp_path / "forms"
    shutil.copytree(DATA / "web" / "forms", forms)
    path = forms / PROFILE
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["properties"]["note"] = note
    path.write_text(json.dumps(schema, indent=2), encoding="utf-8")
    for name, text in (extra or {}).items():
        (forms / name).write_text(text, encoding="utf-8")
    return forms


def _deploy(rt, forms: Path):
    return deployment.deploy(rt, deployment.read_sources(DATA / "web" / "processes", forms), ADMIN)


@pytest.mark.parametrize("target", ["{url}/x", "file:///etc/passwd", "/etc/passwd", "altro.schema.json"])
def test_a_reference_outside_the_deployed_forms_is_refused_at_deploy(web_runtime, listener, tmp_path, target) -> None:
    url, hits = listener
    forms = _forms_with(tmp_path, {"$ref": target.format(url=url)})
    with pytest.raises(DeploymentFailed) as refused:
        _deploy(web_runtime, forms)
    lines = [str(p) for p in refused.value.problems]
    text = (forms / PROFILE).read_text(encoding="utf-8").splitlines()
    note_line = next(number for number, line in enumerate(text, 1) if '"$ref"' in line)
    assert lines == [f"{PROFILE}:{note_line}: properties.note.$ref: " + refused.value.problems[0].message]
    assert "not allowed" in lines[0] and "never fetched" in lines[0]
    assert hits == []


def test_references_inside_the_form_and_to_another_deployed_form_are_followed(web_runtime, tmp_path) -> None:
    shared = json.dumps({"type": "object", "properties": {}, "$defs": {"testo": {"type": "string", "maxLength": 5}}})
    forms = _forms_with(tmp_path, {"$ref": "comuni.schema.json#/$defs/testo"}, {"comuni.schema.json": shared})
    _deploy(web_runtime, forms)
    case_id = start_case(web_runtime, "nord")
    task_id = ready(web_runtime, case_id)[0]["id"]
    data = {"bisogni_particolari": False, "case_manager": "ats.nord", "data_colloquio": "2026-01-07",
            "note": "troppo lungo"}
    with pytest.raises(Exception) as refused:
        task_service.complete_task(web_runtime, task_id, data, actor_of("cpi.nord"), options={"case_manager": ["ats.nord"]})
    assert refused.value.errors == {"note": ["Inserire al massimo 5 caratteri."]}  # type: ignore[attr-defined]


def test_a_stored_form_with_a_remote_reference_is_never_fetched(web_runtime, listener) -> None:
    url, hits = listener
    case_id = start_case(web_runtime, "nord")
    task_id = ready(web_runtime, case_id)[0]["id"]
    with web_runtime.uow() as uow:
        header = uow.instances.header(case_id)
        row = uow.conn.execute(select(process_versions.c.files).where(
            process_versions.c.id == header["process_version_id"])).one()
    files = dict(row.files)
    schema = json.loads(files[PROFILE])
    schema["properties"]["note"] = {"$ref": f"{url}/x"}
    schema["properties"]["reddito"] = {"$ref": "file:///etc/passwd"}
    files[PROFILE] = json.dumps(schema)
    with web_runtime.uow() as uow:  # as if written by an older release or by hand
        uow.conn.execute(update(process_versions).where(process_versions.c.id == header["process_version_id"])
                         .values(files=files))
        uow.commit()
    web_runtime.processes._items.clear()  # the version is read again from the database
    data = {"bisogni_particolari": False, "case_manager": "ats.nord", "data_colloquio": "2026-01-07",
            "note": "x", "reddito": 1}
    with pytest.raises(Exception) as refused:
        task_service.complete_task(web_runtime, task_id, data, actor_of("cpi.nord"), options={"case_manager": ["ats.nord"]})
    assert "_form" in refused.value.errors  # type: ignore[attr-defined]
    assert hits == []
    assert ready(web_runtime, case_id)[0]["id"] == task_id  # nothing was completed

"""A small IDOL endpoint on loopback (HTTP or HTTPS with a test CA) that records what it receives.

It behaves as the contract in README.md («IDOL») asks of IDOL: a request whose
Idempotency-Key was already recorded is answered with the first answer and records nothing
new. `status`, `script`, `detail` and `hold` make it refuse, fail or answer late.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trustme

from tests.integration.scheduling_support import free_port


@dataclass
class Received:
    """One request as the endpoint saw it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeIdol:
    """Answers POST /appuntamenti and /documenti; `status` makes it refuse or fail instead."""

    tls: bool = True
    port: int = field(default_factory=free_port)
    status: int = 200
    script: list[int] = field(default_factory=list)  # statuses for the next requests, before `status` applies
    detail: str = ""  # IDOL's words on a refusal or failure
    hold: float = 0.0  # seconds the answer to the next request is held back (after recording it)
    received: list[Received] = field(default_factory=list)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # Idempotency-Key -> what IDOL recorded
    ca: trustme.CA = field(default_factory=trustme.CA)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        """Base URL of the endpoint."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/idol/v1"

    def client_context(self) -> ssl.SSLContext:
        """A client TLS context trusting this endpoint's test CA (and nothing else)."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        self.ca.configure_trust(context)
        return context

    def start(self) -> None:
        """Listen on the port (again, after a stop)."""
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        server.daemon_threads = True
        if self.tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop listening: connections are refused until the next start."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def record(self, received: Received) -> int:
        """Keep a request; returns how many came to the same path."""
        with self._lock:
            self.received.append(received)
            return sum(1 for r in self.received if r.path == received.path)

    def answer_for(self, received: Received, count: int) -> tuple[int, dict[str, Any], float]:
        """Status, body and hold of the answer: a known key gets its first answer back, nothing is recorded twice."""
        with self._lock:
            status = self.script.pop(0) if self.script else self.status
            hold, self.hold = self.hold, 0.0
            if status != 200:
                return status, {"detail": self.detail or ("slot non disponibile" if status == 409 else "errore")}, hold
            key = received.headers.get("idempotency-key", "")
            if key and key in self.records:
                return 200, self.records[key]["answer"], hold
            if received.path.endswith("/appuntamenti"):
                answer = {"appuntamento_id": f"IDOL-APP-{count}"}
            elif received.path.endswith("/documenti"):
                answer = {"documento_id": f"IDOL-DOC-{count}"}
            else:
                return 404, {"detail": "not found"}, hold
            self.records[key or f"senza-chiave-{count}"] = {"path": received.path, "body": received.body,
                                                            "answer": answer}
            return 201, answer, hold

    def paths(self) -> list[str]:
        """Paths received, in order."""
        return [r.path for r in self.received]

    def documents(self) -> list[dict[str, Any]]:
        """The documents IDOL recorded (once per idempotency key), in order."""
        return [r["body"] for r in self.records.values() if r["path"].endswith("/documenti")]


def _handler(idol: FakeIdol) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            received = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            count = idol.record(received)
            status, payload, hold = idol.answer_for(received, count)
            if hold:
                time.sleep(hold)  # the request is recorded; its answer arrives too late for the client
            try:
                self._answer(status, payload)
            except OSError:
                pass  # the client gave up waiting

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler

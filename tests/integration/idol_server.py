"""A small IDOL endpoint on loopback (HTTP or HTTPS with a test CA) that records what it receives."""

from __future__ import annotations

import json
import ssl
import threading
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
    received: list[Received] = field(default_factory=list)
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

    def paths(self) -> list[str]:
        """Paths received, in order."""
        return [r.path for r in self.received]


def _handler(idol: FakeIdol) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            count = idol.record(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            if idol.status != 200:
                self._answer(idol.status, {"detail": "slot non disponibile" if idol.status == 409 else "errore"})
            elif self.path.endswith("/appuntamenti"):
                self._answer(201, {"appuntamento_id": f"IDOL-APP-{count}"})
            elif self.path.endswith("/documenti"):
                self._answer(201, {"documento_id": f"IDOL-DOC-{count}"})
            else:
                self._answer(404, {"detail": "not found"})

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

"""Real parts for the agent-service tests: a settable clock and small HTTP servers on loopback.

* :class:`FakeClock`: the service's clock, stepped by the test (days pass in milliseconds).
* :class:`ScriptedServer`: answers each request with the next scripted status (500, 429 with
  ``Retry-After``...) and otherwise like the ingest API; it records every request it gets.
* :class:`HoldingProxy`: a reverse proxy to a real ingest server that can hold a request before
  or after forwarding it, so a test can kill the agent mid-upload at a chosen moment.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shared.batch import gunzip_bounded


@dataclass
class FakeClock:
    """A clock the test moves; aware UTC datetimes to the second, like ``utc_now``."""

    now: datetime = field(
        default_factory=lambda: datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    )

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass
class Seen:
    """One request a test server received."""

    method: str
    path: str
    at: datetime
    batch_id: str | None
    body: bytes


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # no access log on the test output
        return


@dataclass
class ScriptedServer:
    """An HTTP server on 127.0.0.1: scripted answers first, then 200 like ``/api/v1/batches``."""

    clock: FakeClock
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    accepted: dict[str, int] = field(default_factory=dict)
    tls: ssl.SSLContext | None = None
    #: The body of a 200 answer on other paths (``/api/v1/agents/config``...).
    payloads: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        server = self

        class Handler(_Quiet):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.answer(self, "POST", body)

            def do_GET(self) -> None:
                server.answer(self, "GET", b"")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self.httpd.socket = self.tls.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    def answer(self, handler: BaseHTTPRequestHandler, method: str, body: bytes) -> None:
        batch_id = handler.headers.get("X-SCM-Request-Id")
        self.seen.append(Seen(method, handler.path, self.clock(), batch_id, body))
        status, headers = self.script.pop(0) if self.script else (200, {})
        payload: dict[str, Any] = {"error": "scripted"} if status >= 300 else {}
        if status == 200 and handler.path in self.payloads:
            payload = self.payloads[handler.path]
        if status == 200 and handler.path == "/api/v1/batches" and batch_id:
            readings = json.loads(gunzip_bounded(body))["readings"]
            duplicate = batch_id in self.accepted
            self.accepted.setdefault(batch_id, len(readings))
            payload = {"batch_id": batch_id, "accepted": len(readings), "duplicate": duplicate}
        data = json.dumps(payload).encode()
        handler.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def uploads(self) -> list[Seen]:
        return [s for s in self.seen if s.path == "/api/v1/batches"]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class HoldingProxy:
    """A reverse proxy to ``upstream``: with ``hold`` set to ``"before"`` or ``"after"`` it parks
    the next batch upload before forwarding it, or after the server answered it, and sets
    ``held`` so the test can act (kill the agent) while the upload is in flight."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.hold: str | None = None
        self.held = threading.Event()
        self.release = threading.Event()
        self.parked: list[str] = []
        proxy = self

        class Handler(_Quiet):
            def do_POST(self) -> None:
                proxy.relay(self, "POST")

            def do_GET(self) -> None:
                proxy.relay(self, "GET")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def relay(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
        parking = self.hold if handler.path == "/api/v1/batches" else None
        if parking:
            self.parked.append(handler.headers.get("X-SCM-Request-Id", ""))
        if parking == "before":
            self._park()
            return
        status, headers, data = self._forward(handler, method, body)
        if parking == "after":
            self._park()
            return
        handler.send_response(status)
        for name, value in headers:
            if name.lower() not in {"transfer-encoding", "connection", "content-length"}:
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _park(self) -> None:
        """Keep the agent's connection open, unanswered, until released (bounded)."""
        self.held.set()
        self.release.wait(timeout=60)

    def _forward(
        self, handler: BaseHTTPRequestHandler, method: str, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self.upstream, timeout=30)
        try:
            skip = {"host", "content-length", "connection"}
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in skip}
            connection.request(method, handler.path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def self_signed_tls(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for 127.0.0.1 with a fresh self-signed certificate, and its PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "scm test CA")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path


@contextmanager
def scripted_server(
    clock: FakeClock, tls: ssl.SSLContext | None = None
) -> Iterator[ScriptedServer]:
    server = ScriptedServer(clock, tls=tls)
    try:
        yield server
    finally:
        server.close()

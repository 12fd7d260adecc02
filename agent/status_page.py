"""A small status page for the customer's IT: ``http://127.0.0.1:PORT``, off by default.

It shows what ``scm-agent status`` prints (printers found, last read and upload, backlog, last
error) from the same ``status.json``, so it never touches the spool or waits for a job.  It
binds to the loopback address only and answers only GET: nobody else on the LAN can reach it,
and it holds no secret (the status file has none).  ``[status_page] port`` in ``agent.toml``
turns it on.
"""

from __future__ import annotations

import html
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final

from agent.status import StatusFile, format_status, pid_alive

LOOPBACK: Final = "127.0.0.1"
REFRESH_S: Final = 30

log = logging.getLogger(__name__)


class StatusPage:
    """The page's HTTP server, run on a daemon thread."""

    def __init__(self, home: Path, port: int) -> None:
        status = StatusFile(home)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                data = status.read()
                running = bool(data) and pid_alive((data or {}).get("pid"))
                if self.path == "/status.json":
                    body = json.dumps({**(data or {}), "running": running}, indent=2)
                    self._send(body, "application/json")
                elif self.path in ("/", "/index.html"):
                    self._send(_page(format_status(data, running=running)), "text/html")
                else:
                    self.send_error(404)

            def _send(self, text: str, kind: str) -> None:
                payload = text.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer((LOOPBACK, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="status-page", daemon=True
        )

    @property
    def url(self) -> str:
        """Where the page answers."""
        return f"http://{LOOPBACK}:{self.server.server_address[1]}/"

    def start(self) -> StatusPage:
        """Serve in the background."""
        self.thread.start()
        log.info("status page on %s (loopback only)", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()


def _page(summary: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="refresh" content="{REFRESH_S}">'
        "<title>SCM agent status</title></head><body>"
        "<h1>SCM printer-fleet agent</h1>"
        f"<pre>{html.escape(summary)}</pre>"
        '<p><a href="/status.json">status.json</a></p></body></html>'
    )

"""The loopback status page of ``scm-agent run``: off by default, loopback only, as status."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from support.processes import agent_toml, start_agent_run

from agent.config import parse_local

pytestmark = [pytest.mark.e2e, pytest.mark.agent_side]
CASE = "bieniu-brother__hl-2270dw"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_page_is_off_unless_configured():
    assert parse_local({}).status_port == 0
    assert parse_local({"status_page": {"port": 8765}}).status_port == 8765


def test_the_page_shows_the_status_on_loopback_only(snmpsim, ingest_server, agent_home, tmp_path):
    port = free_port()
    config = agent_toml(tmp_path, snmpsim.endpoint, CASE, f"[status_page]\nport = {port}\n")
    agent = start_agent_run(agent_home, config)
    try:
        page = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "1 read in the last cycle" not in page:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                    page = answer.read().decode()
            except OSError:
                pass
            time.sleep(0.3)
        assert "service:      running" in page and "last upload:" in page, page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status.json", timeout=5) as answer:
            assert json.load(answer)["running"] is True
        with pytest.raises(urllib.error.HTTPError):  # read-only: no POST
            urllib.request.urlopen(
                urllib.request.Request(f"http://127.0.0.1:{port}/", data=b"x"), timeout=5
            )
        listening = subprocess.run(
            ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=False
        ).stdout
        local_addresses = {line.split()[3] for line in listening.splitlines()}
        assert local_addresses == {f"127.0.0.1:{port}"}, listening
    finally:
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=30) == 0

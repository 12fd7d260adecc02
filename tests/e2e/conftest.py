"""End-to-end fixtures: a real ingest server process on loopback and an enrolled agent home."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.processes import IngestServer, run_agent

CUSTOMER = "Ufficio Tecnico srl"


@pytest.fixture
def ingest_server(database_url: str, tmp_path: Path) -> Iterator[IngestServer]:
    server = IngestServer(database_url=database_url, instance=tmp_path / "instance")
    server.cli("customer", "create", CUSTOMER)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def agent_home(ingest_server: IngestServer, tmp_path: Path) -> Path:
    home = tmp_path / "agent"
    token = ingest_server.cli("token", "create", "--customer", CUSTOMER).strip()
    result = run_agent(home, "enroll", "--server", ingest_server.url, "--token", token)
    assert result.returncode == 0, result.stderr
    return home

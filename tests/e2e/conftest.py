"""End-to-end fixtures: a real ingest server process on loopback and an enrolled agent home."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.captures import COLOUR, MONO, SHARP, TOTAL, capture_variant
from support.processes import IngestServer, run_agent
from support.snmpsim import Snmpsim, start_snmpsim

CUSTOMER = "Ufficio Tecnico srl"


@pytest.fixture
def month_of_printing(tmp_path) -> Iterator[Snmpsim]:
    data = tmp_path / "snmp"
    data.mkdir()
    shutil.copy(SHARP, data / "sharp_before.snmprec")
    capture_variant(SHARP, data / "sharp_after.snmprec", add={TOTAL: 1800, MONO: 1500, COLOUR: 300})
    server = start_snmpsim([data], probe_community="sharp_before")
    yield server
    server.stop()


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


@pytest.fixture
def printed_month(month_of_printing: Snmpsim, ingest_server: IngestServer, agent_home: Path) -> str:
    """The Sharp registered as machine SCM-E2E under contract since the 1st of this month, read
    twice by the agent (1500 B/W and 300 colour pages apart); returns the month, YYYY-MM."""
    endpoint = month_of_printing.endpoint
    first_of_month = datetime.now(UTC).date().replace(day=1)
    ingest_server.cli(
        "machine",
        "add",
        "--customer",
        CUSTOMER,
        "--scm-id",
        "SCM-E2E",
        "--serial",
        "6509415X00",
        "--model",
        "MX-3570N",
        "--location",
        "Ufficio Acquisti, primo piano",
        "--colour",  # registered before any reading: staff say it
    )
    ingest_server.cli(
        "contract",
        "add",
        "--machine",
        "SCM-E2E",
        "--mono-rate",
        "0.01",
        "--colour-rate",
        "0.08",
        "--start",
        first_of_month.isoformat(),
        "--included-mono",
        "1000",
        "--fixed-fee",
        "20",
    )
    for community in ("sharp_before", "sharp_after"):
        pushed = run_agent(agent_home, "push", "--target", f"{endpoint}/{community}")
        assert pushed.returncode == 0, pushed.stderr
        time.sleep(1.1)  # readings are stamped to the second: two reads, two moments
    return f"{first_of_month:%Y-%m}"

"""Issue 12's end to end: a colour MFP that reports only split counters (print / copy / fax,
each B/W and colour) is read over real UDP, its mono and colour derived by the agent from
vendor data, uploaded signed, and invoiced with exactly the pages printed between two reads."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from support.captures import capture_variant
from support.processes import run_agent
from support.snmpsim import start_snmpsim

from ingest.models import DeviceReading, Invoice

pytestmark = pytest.mark.e2e

SPLIT = Path(__file__).parents[1] / "fixtures" / "simulated" / "sim__kyocera_split_counters.snmprec"
KYOCERA = "1.3.6.1.4.1.1347.42.3.1.2.1.1"
PRINT_MONO, PRINT_COLOUR = f"{KYOCERA}.1.1", f"{KYOCERA}.1.3"
COPY_MONO, COPY_COLOUR = f"{KYOCERA}.2.1", f"{KYOCERA}.2.3"
MACHINE_TOTAL = "1.3.6.1.4.1.1347.43.10.1.1.12.1.1"


def test_split_counters_become_an_invoice_with_the_right_pages(ingest_server, agent_home, tmp_path):
    data = tmp_path / "snmp"
    data.mkdir()
    (data / "kyo_before.snmprec").write_text(SPLIT.read_text())
    added = {PRINT_MONO: 1000, COPY_MONO: 200, PRINT_COLOUR: 300, COPY_COLOUR: 50}
    capture_variant(
        SPLIT, data / "kyo_after.snmprec", add={**added, MACHINE_TOTAL: sum(added.values())}
    )
    snmp = start_snmpsim([data], probe_community="kyo_before")
    try:
        first_of_month = datetime.now(UTC).date().replace(day=1)
        ingest_server.cli(
            "machine", "add", "--customer", "Ufficio Tecnico srl", "--scm-id", "SCM-KYO",
            "--serial", "SIMKYO0001", "--model", "TASKalfa 2552ci", "--colour",
        )  # fmt: skip
        ingest_server.cli(
            "contract", "add", "--machine", "SCM-KYO", "--mono-rate", "0.01",
            "--colour-rate", "0.08", "--start", first_of_month.isoformat(),
        )  # fmt: skip
        for community in ("kyo_before", "kyo_after"):
            pushed = run_agent(agent_home, "push", "--target", f"{snmp.endpoint}/{community}")
            assert pushed.returncode == 0, pushed.stderr
            time.sleep(1.1)  # two reads, two moments
    finally:
        snmp.stop()
    issued = ingest_server.cli(
        "billing", "commit", "--month", f"{first_of_month:%Y-%m}", "--to-date",
        "--issued-on", datetime.now(UTC).date().isoformat(),
    )  # fmt: skip
    number = issued.split()[1]
    engine = create_engine(ingest_server.database_url)
    with Session(engine) as db:
        [line] = db.scalar(select(Invoice).where(Invoice.number == number)).lines
        assert (line.pages_mono, line.pages_colour) == (1200, 350)
        payloads = [r.payload for r in db.scalars(select(DeviceReading))]
        assert all(p.get("derived") == ["mono", "colour"] for p in payloads)
        assert all(p["counters"]["mono"] is not None for p in payloads)
    engine.dispose()

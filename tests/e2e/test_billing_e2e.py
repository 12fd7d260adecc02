"""From simulated printers to a paid-per-page invoice: snmpsim -> agent push -> ingest ->
billing run -> invoice PDF, all through the real command lines on loopback."""

from __future__ import annotations

import io
import json
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from support.processes import run_agent
from support.snmpsim import Snmpsim, start_snmpsim

from ingest.models import Invoice

FIXTURES = Path(__file__).parents[1] / "fixtures" / "printers"
SHARP = FIXTURES / "librenms__sharp.snmprec"
#: The Sharp capture's billing counters: total (Printer-MIB), mono and colour (Sharp's table).
TOTAL, MONO, COLOUR = (
    "1.3.6.1.2.1.43.10.2.1.4.1.1",
    "1.3.6.1.4.1.2385.1.1.19.2.1.3.5.4.61",
    "1.3.6.1.4.1.2385.1.1.19.2.1.3.5.4.63",
)
pytestmark = pytest.mark.e2e


def later_capture(source: Path, target: Path, added: dict[str, int]) -> None:
    """The same printer after more pages: ``added`` pages on the given counter OIDs."""
    lines = []
    for line in source.read_text().splitlines():
        oid, tag, value = line.split("|", 2)
        if oid in added:
            value = str(int(value) + added[oid])
        lines.append(f"{oid}|{tag}|{value}")
    target.write_text("\n".join(lines) + "\n")


@pytest.fixture
def month_of_printing(tmp_path) -> Iterator[Snmpsim]:
    data = tmp_path / "snmp"
    data.mkdir()
    shutil.copy(SHARP, data / "sharp_before.snmprec")
    later_capture(SHARP, data / "sharp_after.snmprec", {TOTAL: 1800, MONO: 1500, COLOUR: 300})
    server = start_snmpsim([data], probe_community="sharp_before")
    yield server
    server.stop()


def test_pushed_readings_become_an_invoice_with_the_right_totals(
    month_of_printing, ingest_server, agent_home, tmp_path
):
    endpoint = month_of_printing.endpoint
    after = json.loads(
        run_agent(agent_home, "read", endpoint, "--community", "sharp_after", "--json").stdout
    )
    assert (after["counters"]["mono"], after["counters"]["colour"]) == (91164 + 1500, 29940 + 300)
    serial = after["device"]["serial"]
    first_of_month = datetime.now(UTC).date().replace(day=1)
    ingest_server.cli(
        "machine",
        "add",
        "--customer",
        "Ufficio Tecnico srl",
        "--scm-id",
        "SCM-E2E",
        "--serial",
        serial,
        "--model",
        "MX-3570N",
        "--location",
        "Ufficio Acquisti, primo piano",
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

    month = f"{first_of_month:%Y-%m}"
    preview = ingest_server.cli("billing", "preview", "--month", month)
    assert "NOT BILLED" not in preview, preview
    issued = ingest_server.cli(
        "billing", "commit", "--month", month, "--issued-on", datetime.now(UTC).date().isoformat()
    )
    number = issued.split()[1]
    pdf_path = tmp_path / "invoice.pdf"
    ingest_server.cli("invoice", "pdf", number, "--out", str(pdf_path))
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_path.read_bytes())).pages)
    # 20 fee + (1500 - 1000 included) * 0.01 + 300 * 0.08 = 49.00; VAT 22 % = 10.78
    for expected in (
        f"Fattura n. {number}",
        "Ufficio Tecnico srl",
        "SCM-E2E",
        "1.500",
        "EUR 49,00",
        "EUR 10,78",
        "EUR 59,78",
    ):
        assert expected in text, expected

    engine = create_engine(ingest_server.database_url)
    with Session(engine) as db:
        invoice = db.scalar(select(Invoice).where(Invoice.number == number))
        [line] = invoice.lines
        assert (line.pages_mono, line.pages_colour) == (1500, 300)
        assert len(line.reads) == 2
        assert all(r.signature_verified and r.batch.signature for r in line.reads)
        assert invoice.created_at <= datetime.now(UTC)
    engine.dispose()

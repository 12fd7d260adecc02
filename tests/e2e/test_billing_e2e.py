"""From simulated printers to a paid-per-page invoice: snmpsim -> agent push -> ingest ->
billing run -> invoice PDF, all through the real command lines on loopback."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from support.fleet import to_date_amounts
from support.processes import run_agent

from ingest.models import Invoice

pytestmark = pytest.mark.e2e


def test_pushed_readings_become_an_invoice_with_the_right_totals(
    month_of_printing, ingest_server, agent_home, printed_month, tmp_path
):
    after = json.loads(
        run_agent(
            agent_home, "read", month_of_printing.endpoint, "--community", "sharp_after", "--json"
        ).stdout
    )
    assert (after["counters"]["mono"], after["counters"]["colour"]) == (91164 + 1500, 29940 + 300)
    assert after["device"]["serial"] == "6509415X00"
    month = printed_month
    preview = ingest_server.cli("billing", "preview", "--month", month)
    assert "NOT BILLED" not in preview, preview
    issued = ingest_server.cli(
        "billing", "commit", "--month", month, "--to-date",
        "--issued-on", datetime.now(UTC).date().isoformat(),
    )  # fmt: skip
    net, vat, gross = to_date_amounts(
        datetime.now(UTC).date(), fee=20, included=1000, mono=1500, colour=300
    )
    number = issued.split()[1]
    pdf_path = tmp_path / "invoice.pdf"
    ingest_server.cli("invoice", "pdf", number, "--out", str(pdf_path))
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_path.read_bytes())).pages)
    text = text.replace("\xa0", " ")  # Babel's no-break space before the euro
    # the month runs: billed to date, fee and included pages prorated (whole month: 49,00)
    for expected in (
        f"Fattura n. {number}",
        "Ufficio Tecnico srl",
        "SCM-E2E",
        "1.500",
        f"{net} EUR",
        f"{vat} EUR",
        f"{gross} EUR",
        "Fatturazione a data",
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

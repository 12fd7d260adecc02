"""A simulated printer's toner falls across agent pushes: one reorder, then a delivery note and
shipping labels, and the cartridge change closes the reorder, all on loopback."""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Iterator

import pytest
from pypdf import PdfReader
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from support.captures import BLACK_TONER_LEVEL, SHARP, TOTAL, capture_variant
from support.processes import run_agent
from support.snmpsim import Snmpsim, start_snmpsim

from ingest.models import Reorder

pytestmark = pytest.mark.e2e
LEVELS = (30, 20, 8, 8, 95)
CUSTOMER = "Ufficio Tecnico srl"  # the e2e fixtures enroll the agent for this customer


@pytest.fixture
def toner_falling(tmp_path) -> Iterator[Snmpsim]:
    data = tmp_path / "snmp"
    data.mkdir()
    for step, level in enumerate(LEVELS):
        capture_variant(
            SHARP,
            data / f"sharp_step{step}.snmprec",
            add={TOTAL: 100 * step},
            values={BLACK_TONER_LEVEL: level},
        )
    shutil.copy(SHARP, data / "sharp.snmprec")
    server = start_snmpsim([data], probe_community="sharp")
    yield server
    server.stop()


def pdf_text(path) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)


def reorders(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    with Session(engine) as db:
        rows = [(r.slot, r.status) for r in db.scalars(select(Reorder).order_by(Reorder.id))]
    engine.dispose()
    return rows


def test_falling_toner_is_reordered_once_shipped_labelled_and_closed(
    toner_falling, ingest_server, agent_home, tmp_path
):
    ingest_server.cli(
        "machine",
        "add",
        "--customer",
        CUSTOMER,
        "--scm-id",
        "SCM-0042",
        "--serial",
        "6509415X00",
        "--manufacturer",
        "Sharp",
        "--model",
        "MX-3570N",
        "--location",
        "Ufficio Acquisti, primo piano",
        "--site",
        "Sede",
        "--site-address",
        "Via Roma 1, 20100 Milano",
        "--colour",  # registered before any reading: staff say it
    )
    ingest_server.cli(
        "consumable",
        "add",
        "--code",
        "MX-61GTBA",
        "--description",
        "Toner nero MX-61GTBA",
        "--models",
        "MX-3570N;MX-3070N",
        "--kind",
        "toner",
        "--colour",
        "black",
        "--yield",
        "40000",
        "--price",
        "120",
    )
    for step in range(4):
        pushed = run_agent(
            agent_home, "push", "--target", f"{toner_falling.endpoint}/sharp_step{step}"
        )
        assert pushed.returncode == 0, pushed.stderr
        time.sleep(1.1)  # one reading per second-stamped moment
    assert reorders(ingest_server.database_url) == [("toner:black", "open")]

    [order_line] = [
        line for line in ingest_server.cli("shipping", "list").splitlines() if CUSTOMER in line
    ]
    order_number = order_line.split()[0]
    note_number = ingest_server.cli("shipping", "ship", order_number).split()[0]
    out = tmp_path / "docs"
    ingest_server.cli("shipping", "documents", note_number, "--out-dir", str(out), "--dispatch")
    labels = pdf_text(out / f"{note_number}-labels.pdf")
    for expected in (
        "ID SCM SCM-0042",
        "Sharp MX-3570N - matricola 6509415X00",
        "MX-61GTBA",
        "Toner nero MX-61GTBA",
        "Ubicazione: Ufficio Acquisti, primo piano",
        f"Cliente: {CUSTOMER}",
        "Via Roma 1, 20100 Milano",
        f"{note_number}/L",
    ):
        assert expected in labels, expected
    ddt = pdf_text(out / f"{note_number}.pdf")
    assert note_number in ddt and order_number in ddt and "Toner nero MX-61GTBA" in ddt

    pushed = run_agent(agent_home, "push", "--target", f"{toner_falling.endpoint}/sharp_step4")
    assert pushed.returncode == 0
    assert reorders(ingest_server.database_url) == [("toner:black", "closed")]

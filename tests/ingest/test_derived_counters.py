"""The ingest half of "colour MFP with only split counters -> agent -> ingest -> invoice".

The agent derives mono and colour from split counters (print / copy, B/W and colour) through
vendor data and says so in the reading (``"derived": ["mono", "colour"]``, ``"clock":
"server"``).  Here a signed batch carrying such readings goes through the real upload API: the
machine is registered as colour from what the readings say, and the invoice bills the derived
pages.  The full chain with the agent reading a simulated Kyocera waits for the agent's branch.
"""

from __future__ import annotations

import gzip
import json
from datetime import date

import pytest
from sqlalchemy import select
from support.fleet import utc
from support.ingest import reading

from ingest.db import database
from ingest.domain.accounts import find_customer
from ingest.domain.invoicing import commit_run, month_period
from ingest.domain.machines import ContractTerms, MachineSpec, register_machine
from ingest.models import Device, MeterRead

SERIAL = "KY-SPLIT-1"


def split_counter_batch(agent, when, print_mono, print_colour, copy_mono, copy_colour):
    """One reading as the agent sends it for an MFP that reports only split counters."""
    batch_id, body = agent.batch(reading(SERIAL, total=0, observed_at=when, manufacturer="Kyocera"))
    data = json.loads(gzip.decompress(body))
    data["readings"][0]["counters"] = {
        "total": None,
        "mono": print_mono + copy_mono,
        "colour": print_colour + copy_colour,
        "print_mono": print_mono,
        "print_colour": print_colour,
        "copy_mono": copy_mono,
        "copy_colour": copy_colour,
        "fax": None,
        "scan": None,
        "duplex": None,
    }
    data["readings"][0]["derived"] = ["mono", "colour"]
    data["readings"][0]["clock"] = "server"
    return batch_id, gzip.compress(json.dumps(data).encode(), mtime=0)


@pytest.mark.parametrize(
    ("start", "end", "pages"),
    [
        ((20_000, 6_000, 3_000, 500), (22_500, 6_900, 3_400, 560), (2_900, 960)),
        ((0, 0, 0, 0), (10, 0, 0, 5), (10, 5)),
    ],
)
def test_derived_mono_and_colour_are_billed(app, client, agent, session, start, end, pages):
    for when, counters in ((utc(2026, 11, 1), start), (utc(2026, 12, 1), end)):
        batch_id, body = split_counter_batch(agent, when, *counters)
        response = agent.post(client, batch_id, body)
        assert response.status_code == 200, response.get_json()
    with database(app).session() as db:
        device = db.scalar(select(Device).where(Device.serial == SERIAL))
        machine = register_machine(
            db,
            find_customer(db, device.customer.name),
            MachineSpec(scm_id="SCM-KY1", serial=SERIAL),  # colour: as the readings say
            ContractTerms(mono_rate="0.01", colour_rate="0.08", start=date(2026, 1, 1)),
            device=device,
        )
        assert machine.colour is (pages[1] > 0 or start[1] + start[3] > 0)
        db.commit()
    reads = session.scalars(select(MeterRead).order_by(MeterRead.taken_at)).all()
    assert [(r.mono, r.colour) for r in reads] == [
        (start[0] + start[2], start[1] + start[3]),
        (end[0] + end[2], end[1] + end[3]),
    ]
    [invoice] = commit_run(session, month_period("2026-11"), issued_on=date(2026, 12, 2))
    [line] = invoice.lines
    assert (line.pages_mono, line.pages_colour) == pages
    assert {r.id for r in line.reads} == {r.id for r in reads}

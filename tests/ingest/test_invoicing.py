"""Billing runs over stored reads: preview, commit, links to reads, numbering, payments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from support.fleet import add_machine, push, utc

from ingest.db import database
from ingest.domain.bank_statements import import_bank_csv
from ingest.domain.invoicing import (
    commit_run,
    invoice_lines_csv,
    meter_reads_csv,
    month_period,
    next_invoice_number,
    preview_run,
)
from ingest.domain.machines import ContractTerms, add_contract
from ingest.domain.payments import parse_amount, register_payment
from ingest.models import Invoice, InvoiceLine, Machine, MeterRead

NOV = month_period("2026-11")

LATER = datetime(2027, 1, 2, tzinfo=UTC)


@pytest.fixture
def clock():
    """Readings of December 2026 and January 2027 are pushed: the ingest lives after them."""
    return lambda: LATER


def november(client, agent, serial="SN-0001", start=10_000, end=13_000, colour=(2000, 2500)):
    push(client, agent, utc(2026, 11, 1), start + colour[0], colour=colour[0], serial=serial)
    push(
        client,
        agent,
        utc(2026, 11, 15),
        (start + end) // 2 + colour[0],
        colour=colour[0],
        serial=serial,
    )
    push(client, agent, utc(2026, 12, 1), end + colour[1], colour=colour[1], serial=serial)


def test_preview_then_commit_writes_an_invoice_linked_to_reads(app, client, agent, session):
    add_machine(app, contract={"included_mono": 2000, "fixed_fee": "25"})
    november(client, agent)
    preview = preview_run(session, NOV)
    [draft] = preview.customers
    [line] = draft.lines
    assert (line.amounts.pages_mono, line.amounts.pages_colour) == (3000, 500)
    assert line.amounts.total == Decimal("75.00")  # 25 fee + 1000*0.01 + 500*0.08
    assert session.scalar(select(func.count()).select_from(Invoice)) == 0  # preview stores none

    [invoice] = commit_run(session, NOV, issued_on=date(2026, 12, 2))
    assert invoice.number == "2026/000001"
    assert invoice.net == Decimal("75.00")
    assert invoice.vat == Decimal("16.50")
    assert invoice.gross == Decimal("91.50")
    assert invoice.due_on == date(2027, 1, 1)
    [row] = invoice.lines
    first, last = (
        session.scalar(select(MeterRead).where(MeterRead.taken_at == t))
        for t in (utc(2026, 11, 1), utc(2026, 12, 1))
    )
    assert {r.id for r in row.reads} == {first.id, last.id}
    assert all(r.signature_verified and r.batch is not None for r in row.reads)
    assert "SCM-0001" in row.description


def test_a_second_run_does_not_bill_twice(app, client, agent, session):
    add_machine(app)
    november(client, agent)
    commit_run(session, NOV, issued_on=date(2026, 12, 2))
    assert preview_run(session, NOV).line_count == 0
    assert commit_run(session, NOV, issued_on=date(2026, 12, 3)) == []
    assert session.scalar(select(func.count()).select_from(InvoiceLine)) == 1


def test_flagged_read_blocks_the_machine_not_the_run(app, client, agent, session):
    add_machine(app, scm_id="SCM-A", serial="A-1")
    add_machine(app, scm_id="SCM-B", serial="B-2")
    november(client, agent, serial="A-1")
    november(client, agent, serial="B-2")
    push(client, agent, utc(2026, 11, 20), 5, serial="B-2")  # goes backwards: flagged
    [draft] = preview_run(session, NOV).customers
    assert [line.machine.scm_id for line in draft.lines] == ["SCM-A"]
    assert [(b.machine.scm_id, "flagged" in b.reason) for b in draft.blocked] == [("SCM-B", True)]


def test_machine_without_reads_is_reported(app, session):
    add_machine(app)
    [draft] = preview_run(session, NOV).customers
    assert draft.lines == []
    assert draft.blocked[0].reason == "no meter reads"


def test_quarterly_contract_is_billed_in_the_quarter_last_month(app, client, agent, session):
    add_machine(app, contract={"period": "quarterly"})
    push(client, agent, utc(2026, 10, 1), 100)
    push(client, agent, utc(2027, 1, 1), 700)
    assert preview_run(session, NOV).line_count == 0
    [draft] = preview_run(session, month_period("2026-12")).customers
    assert draft.lines[0].amounts.pages_mono == 600


def test_invoice_numbers_have_no_gaps_across_customers_and_runs(app, client, agent, session):
    add_machine(app, "Rossi srl", scm_id="SCM-R", serial="R-1")
    add_machine(app, "Bianchi spa", scm_id="SCM-B", serial="B-1")
    november(client, agent, serial="R-1")
    from support.ingest import enroll_agent, issue_token

    other = enroll_agent(client, issue_token(app, "Bianchi spa"))
    november(client, other, serial="B-1")
    invoices = commit_run(session, NOV, issued_on=date(2026, 12, 2))
    assert sorted(i.number for i in invoices) == ["2026/000001", "2026/000002"]
    assert next_invoice_number(session, 2026) == "2026/000003"
    session.rollback()  # an aborted transaction gives its number back
    assert next_invoice_number(session, 2026) == "2026/000003"
    assert next_invoice_number(session, 2027) == "2027/000001"


def test_payments_and_bank_import_mark_invoices_paid(app, client, agent, session):
    add_machine(app)
    november(client, agent)
    [invoice] = commit_run(session, NOV, issued_on=date(2026, 12, 2))
    register_payment(session, invoice, Decimal("50.00"), date(2026, 12, 10))
    assert invoice.status == "open"
    rest = invoice.gross - Decimal("50.00")
    statement = (
        "data;importo;causale\n"
        f"2026-12-20;{str(rest).replace('.', ',')};Bonifico saldo fattura {invoice.number}\n"
        "2026-12-21;10,00;Bonifico senza riferimenti\n"
    )
    report = import_bank_csv(session, statement)
    assert report.matched == [(invoice.number, rest)]
    assert len(report.unmatched) == 1
    assert invoice.status == "paid"
    assert invoice.paid_on == date(2026, 12, 20)


def test_amount_formats():
    assert parse_amount("1.234,56") == Decimal("1234.56")
    assert parse_amount("1,234.56") == Decimal("1234.56")
    assert parse_amount("€ 91,5") == Decimal("91.5")
    assert parse_amount("1234") == Decimal("1234")


def test_csv_exports_carry_provenance(app, client, agent, session):
    add_machine(app)
    november(client, agent)
    commit_run(session, NOV, issued_on=date(2026, 12, 2))
    reads_csv = meter_reads_csv(session).splitlines()
    assert reads_csv[0].startswith("read_id,scm_id,serial,taken_at")
    assert len(reads_csv) == 4
    assert ",agent," in reads_csv[1] and ",True," in reads_csv[1]
    lines_csv = invoice_lines_csv(session).splitlines()
    assert "2026/000001" in lines_csv[1]
    assert lines_csv[1].endswith(tuple("0123456789"))


def test_late_reads_never_make_two_invoices_count_the_same_pages(app, client, agent, session):
    """February is billed from the reads known then; reads that arrive later for the same days
    must not move March's start: March continues exactly where February's invoice ended."""
    add_machine(app)
    push(client, agent, utc(2026, 1, 25), 1000)
    push(client, agent, utc(2026, 3, 8), 3000)
    [feb] = commit_run(session, month_period("2026-02"), issued_on=date(2026, 3, 9))
    assert (feb.lines[0].start_mono, feb.lines[0].end_mono) == (1000, 3000)
    push(client, agent, utc(2026, 2, 27), 2500)  # late spool for February
    push(client, agent, utc(2026, 4, 5), 4000)
    [march] = commit_run(session, month_period("2026-03"), issued_on=date(2026, 4, 6))
    line = march.lines[0]
    assert (line.start_mono, line.end_mono) == (3000, 4000)
    total = feb.lines[0].pages_mono + line.pages_mono
    assert total == 4000 - 1000  # every page once


def test_a_new_contract_mid_month_continues_the_old_ones_counters(app, client, agent, session):
    machine_id = add_machine(app, contract={"end": date(2026, 1, 15)})
    with database(app).session() as db:
        add_contract(
            db,
            db.get(Machine, machine_id),
            ContractTerms(
                mono_rate="0.02", colour_rate="0.1", start=date(2026, 1, 16), interpolate=True
            ),
        )
        db.commit()
    for day, total in ((1, 0), (10, 1000), (20, 3000), (31, 4000)):
        push(client, agent, utc(2026, 1, day), total)
    push(client, agent, utc(2026, 2, 1), 4000)
    [invoice] = commit_run(session, month_period("2026-01"), issued_on=date(2026, 2, 2))
    old, new = sorted(invoice.lines, key=lambda line: line.span_start)
    assert old.end_mono == new.start_mono
    assert old.pages_mono + new.pages_mono == 4000


def test_the_same_statement_imported_twice_pays_once(app, client, agent, session):
    add_machine(app)
    november(client, agent)
    [invoice] = commit_run(session, NOV, issued_on=date(2026, 12, 2))
    statement = f"data;importo;causale\n2026-12-10;10,00;Acconto fattura {invoice.number}\n"
    assert len(import_bank_csv(session, statement).matched) == 1
    again = import_bank_csv(session, statement)
    assert again.matched == []
    assert again.unmatched == ["row 2: already imported"]
    assert len(invoice.payments) == 1
    assert parse_amount("(1.234,56)") == Decimal("-1234.56")
    assert parse_amount("12,50-") == Decimal("-12.50")
    broken = import_bank_csv(session, "data;importo;causale\n" + "x" * 200_000 + "\n")
    assert broken.matched == [] and broken.unmatched

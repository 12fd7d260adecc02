"""Issue 12, billing side: one table-driven test per bug found by trying billing as a new user.

* a month billed before it ended (28 November billed 1-30 November from a 27 November read);
* a fixed fee of 1e9 accepted and invoiced, with nothing to undo it;
* a line far from the machine's history issued without a word;
* payments: 5000 on 172.63 marked paid silently, -50 and "abc" with no message;
* Spanish bank exports "unreadable";
* statistics 5,440 / 787 for a month invoiced at 5,500 / 800.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from support.fleet import add_machine, push, utc

from ingest.db import database
from ingest.domain.bank_statements import ROW_MATCHED, ROW_SKIPPED, ROW_UNREADABLE, import_bank_csv
from ingest.domain.errors import DomainError
from ingest.domain.invoicing import changes_since_last_run, commit_run, month_period, preview_run
from ingest.domain.machines import ContractTerms, add_contract, register_machine
from ingest.domain.payments import payment_amount, register_payment
from ingest.domain.plausibility import ContractBounds
from ingest.domain.statistics import fleet_pages
from ingest.models import Invoice, Machine

NOV = month_period("2026-11")

LATER = datetime(2027, 1, 2, tzinfo=UTC)


@pytest.fixture
def clock():
    """Readings of December 2026 and January 2027 are pushed: the ingest lives after them."""
    return lambda: LATER


def reads_around_november(client, agent):
    push(client, agent, utc(2026, 11, 1), 10_000)
    push(client, agent, utc(2026, 11, 27, 9), 12_700)
    push(client, agent, utc(2026, 12, 1), 13_000)


@pytest.mark.parametrize(
    ("today", "to_date", "refused", "billed_until", "marked"),
    [
        # the bug: on 28 November the whole of November was billed from a 27 November read
        (date(2026, 11, 28), False, "has not ended yet", None, None),
        (date(2026, 11, 28), True, None, date(2026, 11, 28), True),
        (date(2026, 11, 30), True, None, date(2026, 11, 30), True),
        (date(2026, 12, 1), False, None, date(2026, 11, 30), False),
        (date(2026, 12, 1), True, None, date(2026, 11, 30), False),
        (date(2026, 10, 31), True, "a month that has started", None, None),
    ],
)
def test_a_month_is_billed_only_once_ended_unless_to_date(
    app, client, agent, session, today, to_date, refused, billed_until, marked
):
    add_machine(app)
    reads_around_november(client, agent)
    if refused:
        with pytest.raises(DomainError, match=refused):
            commit_run(session, NOV, issued_on=today, to_date=to_date)
        assert session.scalar(select(Invoice)) is None
        return
    [invoice] = commit_run(session, NOV, issued_on=today, to_date=to_date)
    assert invoice.period_end == billed_until
    assert invoice.to_date is marked
    assert invoice.lines[0].span_end == billed_until


def test_the_rest_of_a_month_billed_to_date_follows_and_every_page_is_billed_once(
    app, client, agent, session
):
    add_machine(app, contract={"fixed_fee": "30", "included_mono": 1000})
    reads_around_november(client, agent)
    [early] = commit_run(session, NOV, issued_on=date(2026, 11, 28), to_date=True)
    [rest] = commit_run(session, NOV, issued_on=date(2026, 12, 2))
    first, second = early.lines[0], rest.lines[0]
    assert (first.span_start, first.span_end) == (date(2026, 11, 1), date(2026, 11, 28))
    assert (second.span_start, second.span_end) == (date(2026, 11, 29), date(2026, 11, 30))
    assert second.start_mono == first.end_mono
    assert first.pages_mono + second.pages_mono == 13_000 - 10_000
    assert first.fee + second.fee == Decimal("30.00")  # prorated by days, 28 + 2 of 30
    assert first.included_mono + second.included_mono == 1000
    assert commit_run(session, NOV, issued_on=date(2026, 12, 3)) == []


@pytest.mark.parametrize(
    ("terms", "confirmed", "refused"),
    [
        # the bug: a fixed fee of 1e9 became invoice 2026/000002 for EUR 1,220,000,035.99
        ({"fixed_fee": "1e9"}, False, "fixed fee 1000000000 is above the usual maximum 2000"),
        ({"mono_rate": "1.5"}, False, "EUR per B/W page 1.5 is above"),
        ({"colour_rate": "9"}, False, "EUR per colour page 9 is above"),
        ({"minimum_charge": "25000"}, False, "minimum charge 25000 is above"),
        ({"included_mono": 10_000_000}, False, "included B/W pages 10000000 is above"),
        ({"fixed_fee": "1e9"}, True, None),
        ({"fixed_fee": "25", "mono_rate": "0.009"}, False, None),
    ],
)
def test_contract_values_outside_the_bounds_need_a_confirmation(
    app, session, terms, confirmed, refused
):
    machine = session.get(Machine, add_machine(app, contract={"end": date(2026, 1, 31)}))
    contract = ContractTerms(**{"mono_rate": "0.01", "start": date(2026, 2, 1), **terms})
    if refused:
        with pytest.raises(DomainError, match=re.escape(refused)) as caught:
            add_contract(session, machine, contract, confirmed=confirmed)
        assert (caught.value.code, caught.value.status) == ("needs_confirmation", 409)
    else:
        assert add_contract(session, machine, contract, confirmed=confirmed).id


def test_bounds_are_configuration():
    bounds = ContractBounds.parse("fixed_fee=5000, mono_rate=0.1")
    assert (bounds.fixed_fee, bounds.mono_rate) == (Decimal(5000), Decimal("0.1"))
    assert bounds.colour_rate == ContractBounds().colour_rate
    assert ContractBounds.from_env({"SCM_CONTRACT_BOUNDS": "included_mono=1"}).included_mono == 1
    with pytest.raises(ValueError, match="NAME=NUMBER"):
        ContractBounds.parse("fee=abc")


@pytest.mark.parametrize(
    ("december_pages", "december_fee", "held"),
    [
        (1_000, "0", None),
        (4_900, "0", None),
        (10_000, "0", "pages is 9.7x this machine's median month (1000)"),
        (1_000, "500", "amount is"),  # a fee typo: 510 against 10 a month
    ],
)
def test_a_line_far_from_the_machines_history_holds_the_run(
    app, client, agent, session, december_pages, december_fee, held
):
    machine_id = add_machine(app, contract={"end": date(2026, 11, 30)})
    with database(app).session() as db:
        terms = ContractTerms(mono_rate="0.01", start=date(2026, 12, 1), fixed_fee=december_fee)
        add_contract(db, db.get(Machine, machine_id), terms, confirmed=True)
        db.commit()
    for month, total in ((9, 0), (10, 1000), (11, 2000), (12, 3000)):
        push(client, agent, utc(2026, month, 1), total)
    push(client, agent, utc(2027, 1, 1), 3000 + december_pages)
    for month in ("2026-09", "2026-10", "2026-11"):
        commit_run(session, month_period(month), issued_on=date(2026, 12, 2))
    december = month_period("2026-12")
    holds = preview_run(session, december).holds()
    if held is None:
        assert holds == {}
        assert len(commit_run(session, december, issued_on=date(2027, 1, 2))) == 1
        return
    [reason] = [v for k, v in holds.items() if k.startswith("line:")]
    assert held in reason
    with pytest.raises(DomainError, match="waits for a decision") as caught:
        commit_run(session, december, issued_on=date(2027, 1, 2))
    assert caught.value.code == "run_held"
    release = list(holds)
    [invoice] = commit_run(session, december, issued_on=date(2027, 1, 2), release=release)
    assert invoice.lines[0].pages_mono == december_pages


def test_the_preview_says_what_changes_against_the_last_run(app, client, agent, session):
    add_machine(app, scm_id="SCM-A", serial="A-1")
    for month, total in ((10, 0), (11, 1000), (12, 3500)):
        push(client, agent, utc(2026, month, 1), total, serial="A-1")
    commit_run(session, month_period("2026-10"), issued_on=date(2026, 11, 2))
    add_machine(app, scm_id="SCM-B", serial="B-1")
    for month, total in ((11, 0), (12, 700)):
        push(client, agent, utc(2026, month, 1), total, serial="B-1")
    [change] = changes_since_last_run(session, preview_run(session, NOV))
    assert change.last.number == "2026/000001"
    rows = {line.scm_id: line for line in change.lines}
    assert rows["SCM-A"].pages_delta == (2500 - 1000, 0)
    assert rows["SCM-A"].amount_delta == Decimal("15.00")
    assert rows["SCM-B"].before is None and rows["SCM-B"].after is not None


@pytest.fixture
def invoice_172(app, client, agent, session):
    """An open invoice of EUR 172.63."""
    add_machine(app, contract={"fixed_fee": "141.49"})
    push(client, agent, utc(2026, 11, 1), 0)
    push(client, agent, utc(2026, 12, 1), 1)
    [invoice] = commit_run(session, NOV, issued_on=date(2026, 12, 2))
    assert invoice.gross == Decimal("172.63")
    return invoice


@pytest.mark.parametrize(
    ("typed", "refused", "message", "state", "balance"),
    [
        # the bug: 5000 on 172.63 marked it paid without a word; -50 and "abc" said nothing
        ("5000", None, "4827.37 more than was due", "overpaid", "-4827.37"),
        ("5.000,00", None, "4827.37 more than was due", "overpaid", "-4827.37"),
        ("100", None, "72.63 is still due", "partly_paid", "72.63"),
        ("172,63", None, "the invoice is paid", "paid", "0.00"),
        ("-50", "more than zero", None, "open", "172.63"),
        ("abc", "is not a number", None, "open", "172.63"),
        ("", "Enter the amount", None, "open", "172.63"),
        ("0", "more than zero", None, "open", "172.63"),
    ],
)
def test_payments_are_validated_and_over_or_under_payments_kept(
    session, invoice_172, typed, refused, message, state, balance
):
    if refused:
        with pytest.raises(DomainError, match=refused):
            payment_amount(typed)
    else:
        outcome = register_payment(session, invoice_172, payment_amount(typed), date(2026, 12, 9))
        assert message in outcome.message
    assert invoice_172.payment_state == state
    assert invoice_172.balance == Decimal(balance)
    assert invoice_172.status == ("paid" if state in ("paid", "overpaid") else "open")


def test_the_payment_page_says_what_went_wrong_and_what_was_recorded(
    app, client, session, invoice_172
):
    from support.web import add_user, csrf_token, sign_in

    add_user(app, "staff@scm.example", staff=True)
    sign_in(client, "staff@scm.example")
    path = f"/ops/invoices/{invoice_172.id}/payments"
    p = f"p{invoice_172.id}-"
    for typed, said in (
        ("abc", "is not a number"),
        ("-50", "more than zero"),
        ("5000", "the overpayment is recorded"),
    ):
        page = client.post(
            path,
            data={
                "csrf_token": csrf_token(client, "/ops/invoices"),
                p + "amount": typed,
                p + "paid_on": "2026-12-09",
            },
            follow_redirects=True,
        ).get_data(as_text=True)
        assert said in page
    assert "overpaid by €4,827.37" in client.get("/ops/invoices").get_data(as_text=True)


ITALIAN = """Estratto conto corrente n. 000012345678
Periodo dal 01/12/2026 al 31/12/2026

Data operazione;Data valuta;Descrizione operazione;Dare;Avere
09/12/2026;09/12/2026;BONIFICO A VOSTRO FAVORE Saldo fattura {number};;172,63
10/12/2026;10/12/2026;PAGAMENTO POS;45,00;
11/12/2026;11/12/2026;Bonifico senza riferimento;;1.250,00
32/12/2026;12/12/2026;Bonifico fattura {number};;10,00
"""
SPANISH = """Fecha;Fecha valor;Concepto;Importe;Saldo
09/12/2026;09/12/2026;TRANSFERENCIA RECIBIDA FACTURA {number};1.172,63;5.000,00
10/12/2026;10/12/2026;RECIBO LUZ;-45,10;4.954,90
11/12/2026;11/12/2026;TRANSFERENCIA FACTURA {number};doce;4.954,90
"""


@pytest.mark.parametrize(
    ("statement", "outcomes", "paid"),
    [
        # the bug: a Spanish export with dd/mm/yyyy rows was "unreadable"
        (ITALIAN, [ROW_MATCHED, ROW_SKIPPED, ROW_SKIPPED, ROW_UNREADABLE], "172.63"),
        (SPANISH, [ROW_MATCHED, ROW_SKIPPED, ROW_UNREADABLE], "1172.63"),
        (ITALIAN.replace(";", ","), [ROW_MATCHED, ROW_SKIPPED, ROW_SKIPPED, ROW_UNREADABLE], None),
    ],
)
def test_italian_and_spanish_bank_exports_are_read_row_by_row(
    session, invoice_172, statement, outcomes, paid
):
    text = statement.format(number=invoice_172.number)
    if paid is None:  # commas both as separator and decimal: only quoted cells would work
        text = text.replace("172,63", '"172,63"').replace("1.250,00", '"1.250,00"')
        text = text.replace("45,00", '"45,00"').replace("10,00", '"10,00"')
        paid = "172.63"
    report = import_bank_csv(session, text)
    assert report.problem is None
    assert [r.outcome for r in report.rows] == outcomes
    assert (
        report.rows[0].message
        == f"row {report.rows[0].row}: {Decimal(paid):.2f} paid on invoice {invoice_172.number}"
    )
    assert invoice_172.paid_total == Decimal(paid)
    assert all(r.message.startswith(f"row {r.row}:") for r in report.rows)


def test_a_file_without_a_date_and_amount_header_says_what_it_looked_for(session):
    report = import_bank_csv(session, "foo;bar\n1;2\n")
    assert report.rows == []
    assert "no header row with a date and an amount column" in report.problem
    assert "fecha" in report.problem and "importe" in report.problem


@pytest.mark.parametrize("interpolate", [False, True])
def test_statistics_show_the_pages_the_invoice_billed(app, client, agent, session, interpolate):
    """The bug: statistics interpolated (5,440 / 787) where the invoice did not (5,500 / 800)."""
    add_machine(app, contract={"interpolate": interpolate})
    push(client, agent, utc(2026, 10, 29), 20_000, colour=3_000)
    push(client, agent, utc(2026, 11, 3), 20_300, colour=3_060)
    push(client, agent, utc(2026, 11, 28), 25_500, colour=3_800)
    push(client, agent, utc(2026, 12, 2), 26_300, colour=3_860)
    [invoice] = commit_run(session, NOV, issued_on=date(2026, 12, 3))
    [line] = invoice.lines
    push(client, agent, utc(2026, 11, 30), 26_000, colour=3_840)  # late: moves no boundary
    [november] = fleet_pages(session, None, [NOV])
    assert (november.mono, november.colour) == (line.pages_mono, line.pages_colour)


def test_registering_from_readings_takes_colour_from_them(app, client, agent, session):
    from ingest.domain.accounts import find_customer
    from ingest.domain.machines import MachineSpec
    from ingest.models import Device
    from shared.reading import Supply

    cyan = Supply.from_raw("toner", "cyan", "Cyan Toner", 50, 100)
    push(client, agent, utc(2026, 11, 1), 900, serial="MONO-1")
    push(client, agent, utc(2026, 11, 1), 900, colour=100, serial="COL-1")
    push(client, agent, utc(2026, 11, 1), 900, serial="CMY-1", extra_supplies=(cyan,))
    with database(app).session() as db:
        customer = find_customer(db, "Rossi srl")
        for serial, colour in (("MONO-1", False), ("COL-1", True), ("CMY-1", True)):
            device = db.scalar(select(Device).where(Device.serial == serial))
            machine = register_machine(
                db, customer, MachineSpec(scm_id=f"SCM-{serial}", serial=serial), device=device
            )
            assert machine.colour is colour, serial
        with pytest.raises(DomainError, match=r"unknown .*no readings yet"):
            register_machine(db, customer, MachineSpec(scm_id="SCM-X", serial="NEVER-SEEN"))


@pytest.mark.parametrize(
    ("extra", "colour_field", "fee", "confirm", "registered", "said"),
    [
        # the bug: the "colour machine" box was ticked by default, mono printers became colour
        ({}, "auto", "25", False, False, "Machine SCM-Q1 registered"),
        ({}, "colour", "25", False, True, "Machine SCM-Q1 registered"),
        ({"colour": 40}, "auto", "25", False, True, "Machine SCM-Q1 registered"),
        ({}, "auto", "1e9", False, None, "Please confirm these contract values: fixed fee"),
        ({}, "auto", "1e9", True, False, "Machine SCM-Q1 registered"),
    ],
)
def test_the_queue_shows_colour_from_readings_and_asks_to_confirm_odd_values(
    app, client, agent, session, extra, colour_field, fee, confirm, registered, said
):
    from support.web import add_user, csrf_token, sign_in

    push(client, agent, utc(2026, 11, 3), 500, serial="Q-1", **extra)
    add_user(app, "staff@scm.example", staff=True)
    sign_in(client, "staff@scm.example")
    queue = client.get("/ops/queue").get_data(as_text=True)
    shown = "colour" if extra else "mono"
    assert f'class="colour-evidence" data-colour="{shown}"' in queue
    assert 'value="auto" selected' in queue or 'selected value="auto"' in queue
    device_id = int(re.search(r"/ops/queue/(\d+)/machine", queue)[1])
    p = f"d{device_id}-"
    form = {
        "csrf_token": csrf_token(client, "/ops/queue"),
        p + "scm_id": "SCM-Q1",
        p + "serial": "Q-1",
        p + "site_name": "Sede",
        p + "site_address": "Via Po 2",
        p + "colour": colour_field,
        p + "mono_rate": "0.01",
        p + "fixed_fee": fee,
        p + "period": "monthly",
        p + "start": "2026-11-01",
        **({p + "confirm": "y"} if confirm else {}),
    }
    page = client.post(f"/ops/queue/{device_id}/machine", data=form, follow_redirects=True)
    assert said in page.get_data(as_text=True)
    machine = session.scalar(select(Machine).where(Machine.scm_id == "SCM-Q1"))
    assert (machine.colour if machine else None) is registered

"""``scm-ingest`` commands for the registry and billing: machines, contracts, runs, reads, pay."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.cli_common import cli_session
from ingest.config import load_settings
from ingest.dealer import dealer as dealer_identity
from ingest.documents import credit_note_pdf, invoice_pdf
from ingest.domain.accounts import find_customer
from ingest.domain.bank_statements import decode_statement, import_bank_csv
from ingest.domain.corrections import find_document, issue_credit_note
from ingest.domain.einvoice import DealerIdentity, EInvoiceError, credit_note_xml, invoice_xml
from ingest.domain.errors import DomainError
from ingest.domain.invoicing import (
    billing_until,
    changes_since_last_run,
    commit_run,
    month_period,
    preview_run,
)
from ingest.domain.machines import (
    CHANGEABLE_TERMS,
    ContractTerms,
    MachineSpec,
    add_contract,
    change_contract,
    register_machine,
)
from ingest.domain.payments import payment_amount
from ingest.domain.plausibility import ContractBounds
from ingest.domain.read_requests import (
    RequestLinks,
    due_reminders,
    open_requests_for_period,
    send_requests,
)
from ingest.mail import mailer_from_env
from ingest.models import CreditNote, Invoice, Machine


@click.group("machine")
def machine_group() -> None:
    """Machines under contract ("Parco Macchine")."""


@machine_group.command("add")
@click.option("--customer", "customer_name", required=True)
@click.option("--scm-id", required=True, help="the dealer's machine ID")
@click.option("--serial", required=True, help="the manufacturer's serial number")
@click.option("--manufacturer")
@click.option("--model")
@click.option("--location", help='where in the building ("ubicazione")')
@click.option("--site", default="Sede", show_default=True)
@click.option("--site-address", default="", help="street address of the site")
@click.option(
    "--colour/--mono",
    default=None,
    help="prints colour or not; default: as the agent device's readings say",
)
@click.option("--not-monitored", is_flag=True, help="no agent reads it: reads are requested")
@click.option("--accessories", help="installed accessories (finisher, fax board...)")
@click.option("--configuration", help="configuration at the customer (network, trays...)")
def machine_add(
    customer_name: str,
    scm_id: str,
    serial: str,
    manufacturer: str | None,
    model: str | None,
    location: str | None,
    site: str,
    site_address: str,
    colour: bool | None,
    not_monitored: bool,
    accessories: str | None,
    configuration: str | None,
) -> None:
    """Register a machine; an agent device with the same serial is linked at once."""
    with cli_session() as session:
        spec = MachineSpec(
            scm_id=scm_id,
            serial=serial,
            manufacturer=manufacturer,
            model=model,
            location=location,
            site_name=site,
            site_address=site_address,
            colour=colour,
            monitored=not not_monitored,
            accessories=accessories,
            configuration=configuration,
        )
        row = register_machine(session, find_customer(session, customer_name), spec)
        linked = "linked to an agent device" if row.device_id else "no agent device yet"
        click.echo(f"machine {row.scm_id} ({linked})")


@click.group("contract")
def contract_group() -> None:
    """Cost-per-copy contracts."""


@contract_group.command("add")
@click.option("--machine", "scm_id", required=True, help="ID SCM of the machine")
@click.option("--mono-rate", required=True, help="EUR per B/W page, e.g. 0.0085")
@click.option("--colour-rate", default="0", show_default=True)
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--included-mono", default=0, show_default=True)
@click.option("--included-colour", default=0, show_default=True)
@click.option("--fixed-fee", default="0", show_default=True)
@click.option("--minimum", "minimum_charge", default="0", show_default=True)
@click.option(
    "--period", type=click.Choice(["monthly", "quarterly"]), default="monthly", show_default=True
)
@click.option("--interpolate", is_flag=True, help="interpolate reads at period boundaries")
@click.option("--true-up", is_flag=True, help="charge overage once a year (conguaglio)")
@click.option("--confirm", is_flag=True, help="accept values outside SCM_CONTRACT_BOUNDS")
def contract_add(
    scm_id: str, start: datetime, end: datetime | None, confirm: bool, **terms: object
) -> None:
    """Attach contract terms to a machine."""
    with cli_session() as session:
        machine = _machine(session, scm_id)
        contract = ContractTerms(start=start.date(), end=end.date() if end else None, **terms)  # type: ignore[arg-type]
        row = add_contract(
            session, machine, contract, bounds=ContractBounds.from_env(), confirmed=confirm
        )
        click.echo(f"contract {row.id} on {scm_id} from {row.start}")


@contract_group.command("change")
@click.option("--machine", "scm_id", required=True, help="ID SCM of the machine")
@click.option(
    "--effective", type=click.DateTime(["%Y-%m-%d"]), required=True, help="first day of new terms"
)
@click.option("--mono-rate")
@click.option("--colour-rate")
@click.option("--included-mono", type=int)
@click.option("--included-colour", type=int)
@click.option("--fixed-fee")
@click.option("--minimum", "minimum_charge")
@click.option("--period", type=click.Choice(["monthly", "quarterly"]))
@click.option("--interpolate/--no-interpolate", default=None)
@click.option("--true-up/--no-true-up", default=None)
@click.option("--confirm", is_flag=True, help="accept values outside SCM_CONTRACT_BOUNDS")
def contract_change(scm_id: str, effective: datetime, confirm: bool, **given: object) -> None:
    """New terms from a date on: billed from that day, the days before at the old terms."""
    changes = {k: v for k, v in given.items() if v is not None and k in CHANGEABLE_TERMS}
    if not changes:
        raise click.UsageError("say what changes (e.g. --mono-rate 0.008)")
    with cli_session() as session:
        row = change_contract(
            session,
            _machine(session, scm_id),
            effective.date(),
            changes,
            bounds=ContractBounds.from_env(),
            confirmed=confirm,
        )
        click.echo(f"contract {row.id} on {scm_id} from {row.start}: {', '.join(sorted(changes))}")


def _machine(session: Session, scm_id: str) -> Machine:
    machine = session.scalar(select(Machine).where(Machine.scm_id == scm_id))
    if machine is None:
        raise DomainError("not_found", f"no machine with ID SCM {scm_id}")
    return machine


@click.group("billing")
def billing_group() -> None:
    """Billing runs."""


@billing_group.command("preview")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--to-date", is_flag=True, help="a running month, billed up to today")
def billing_preview(month: str, to_date: bool) -> None:
    """Show what a run would invoice, what it holds or cannot bill, and what changes against
    the last committed run."""
    with cli_session() as session:
        period, today = month_period(month), date.today()
        try:
            until = billing_until(period, today, to_date=to_date)
        except DomainError as err:  # a running month: show it to date, say what commit needs
            click.echo(f"NOTE {err.message}")
            until = billing_until(period, today, to_date=True)
        preview = preview_run(session, period, until=until)
        for draft in preview.customers:
            click.echo(f"{draft.customer.name}: net EUR {draft.net}")
            for line in draft.lines:
                a = line.amounts
                click.echo(
                    f"  {line.description}: {a.pages_mono} B/W, {a.pages_colour} colour, "
                    f"EUR {a.total}"
                )
            for blocked in draft.blocked:
                click.echo(f"  NOT BILLED {blocked.machine.scm_id}: {blocked.reason}")
        for key, reason in preview.holds().items():
            click.echo(f"HELD {key}: {reason} (commit with --release {key} to bill it as it is)")
        for change in changes_since_last_run(session, preview):
            last = change.last.number if change.last else "none"
            for line in change.lines:
                click.echo(
                    f"CHANGE {change.customer.name} {line.scm_id} vs {last}: "
                    f"pages {line.pages_delta or 'new or gone'}, EUR {line.amount_delta or '-'}"
                )


@billing_group.command("commit")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--issued-on", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to-date", is_flag=True, help="bill a running month up to today (marked)")
@click.option("--release", multiple=True, help="a held line or total to bill as it is")
def billing_commit(
    month: str, issued_on: datetime | None, to_date: bool, release: tuple[str, ...]
) -> None:
    """Issue the invoices of a run (only for a month that has ended, unless --to-date)."""
    with cli_session() as session:
        today = date.today()
        day = issued_on.date() if issued_on else today
        for invoice in commit_run(
            session,
            month_period(month),
            issued_on=day,
            today=today,
            to_date=to_date,
            release=release,
            dealer_country=dealer_identity().country,
        ):
            marked = " (to date)" if invoice.to_date else ""
            click.echo(
                f"invoice {invoice.number} {invoice.customer.name} EUR {invoice.gross}{marked}"
            )


@click.group("invoice")
def invoice_group() -> None:
    """Invoices and payments."""


@invoice_group.command("pdf")
@click.argument("number")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def invoice_pdf_command(number: str, out: Path) -> None:
    """Write invoice NUMBER (e.g. 2026/000001) as a PDF."""
    with cli_session() as session:
        invoice = session.scalar(select(Invoice).where(Invoice.number == number))
        if invoice is None:
            raise DomainError("not_found", f"no invoice {number}")
        out.write_bytes(invoice_pdf(invoice))
    click.echo(f"wrote {out}")


@invoice_group.command("xml")
@click.argument("number")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def invoice_xml_command(number: str, out: Path) -> None:
    """Write invoice (or credit note) NUMBER as FatturaPA XML (FPR12) for the SDI intermediary."""
    try:
        dealer = DealerIdentity.from_env()
        with cli_session() as session:
            model = CreditNote if number.startswith("NC-") else Invoice
            document = find_document(session, model, number)
            data = (
                credit_note_xml(document, dealer)  # type: ignore[arg-type]
                if isinstance(document, CreditNote)
                else invoice_xml(document, dealer)
            )
    except EInvoiceError as err:
        raise click.ClickException(str(err)) from err
    out.write_bytes(data)
    click.echo(f"wrote {out}")


@invoice_group.command("credit-note")
@click.argument("number")
@click.option("--reason", required=True, help="why the invoice is corrected (printed)")
@click.option("--amount", help="net amount to credit; default: all that is left")
@click.option("--issued-on", type=click.DateTime(["%Y-%m-%d"]), help="default: today")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="write its PDF")
def invoice_credit_note(
    number: str, reason: str, amount: str | None, issued_on: datetime | None, out: Path | None
) -> None:
    """Correct issued invoice NUMBER with a credit note (the invoice itself never changes)."""
    now = datetime.now(UTC)
    with cli_session() as session:
        invoice = find_document(session, Invoice, number)
        note = issue_credit_note(
            session,
            invoice,  # type: ignore[arg-type]
            reason=reason,
            issued_on=issued_on.date() if issued_on else now.date(),
            now=now,
            net=payment_amount(amount) if amount else None,
        )
        if out is not None:
            out.write_bytes(credit_note_pdf(note))
        click.echo(f"credit note {note.number} for {number}: EUR {note.gross}")


@invoice_group.command("import-payments")
@click.argument("statement", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_payments(statement: Path) -> None:
    """Match a bank statement CSV (Italian or Spanish export) to open invoices, row by row."""
    with cli_session() as session:
        report = import_bank_csv(session, decode_statement(statement.read_bytes()))
    if report.problem:
        click.echo(report.problem)
    for row in report.rows:
        click.echo(f"{row.outcome} {row.message}")


@click.group("reads")
def reads_group() -> None:
    """Meter-read requests to customers."""


@reads_group.command("request")
@click.option("--period-end", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--silent-days", default=7, show_default=True)
def reads_request(period_end: datetime, silent_days: int) -> None:
    """E-mail referents for machines needing a read, then send due reminders."""
    mailer, app_settings = mailer_from_env(), load_settings()
    if mailer is None:
        raise click.ClickException("no SMTP server configured (set SCM_SMTP_HOST)")
    links = RequestLinks(app_settings.public_url, app_settings.secret_key)
    now = datetime.now(UTC)
    with cli_session() as session:
        created = open_requests_for_period(session, period_end.date(), now, silent_days)
        sent = send_requests(session, created, mailer, links, now)
        reminded = send_requests(
            session, due_reminders(session, now), mailer, links, now, reminder=True
        )
    click.echo(f"{len(created)} request(s), {sent} e-mail(s), {reminded} reminder(s)")


COMMANDS = (machine_group, contract_group, billing_group, invoice_group, reads_group)

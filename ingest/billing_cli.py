"""``scm-ingest`` commands for the registry and billing: machines, contracts, runs, reads, pay."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click
from sqlalchemy import select

from ingest.cli_common import cli_session
from ingest.config import load_settings
from ingest.documents import invoice_pdf
from ingest.domain.accounts import find_customer
from ingest.domain.errors import DomainError
from ingest.domain.invoicing import commit_run, import_bank_csv, month_period, preview_run
from ingest.domain.machines import ContractTerms, MachineSpec, add_contract, register_machine
from ingest.domain.read_requests import (
    RequestLinks,
    due_reminders,
    open_requests_for_period,
    send_requests,
)
from ingest.mail import mailer_from_env
from ingest.models import Invoice, Machine


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
@click.option("--mono", is_flag=True, help="a black-and-white machine")
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
    mono: bool,
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
            colour=not mono,
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
def contract_add(scm_id: str, start: datetime, end: datetime | None, **terms: object) -> None:
    """Attach contract terms to a machine."""
    with cli_session() as session:
        machine = session.scalar(select(Machine).where(Machine.scm_id == scm_id))
        if machine is None:
            raise DomainError("not_found", f"no machine with ID SCM {scm_id}")
        contract = ContractTerms(start=start.date(), end=end.date() if end else None, **terms)  # type: ignore[arg-type]
        row = add_contract(session, machine, contract)
        click.echo(f"contract {row.id} on {scm_id} from {row.start}")


@click.group("billing")
def billing_group() -> None:
    """Billing runs."""


@billing_group.command("preview")
@click.option("--month", required=True, help="YYYY-MM")
def billing_preview(month: str) -> None:
    """Show what a run would invoice, and what it cannot bill yet."""
    with cli_session() as session:
        preview = preview_run(session, month_period(month))
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


@billing_group.command("commit")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--issued-on", type=click.DateTime(["%Y-%m-%d"]))
def billing_commit(month: str, issued_on: datetime | None) -> None:
    """Issue the invoices of a run."""
    with cli_session() as session:
        day = issued_on.date() if issued_on else date.today()
        for invoice in commit_run(session, month_period(month), issued_on=day):
            click.echo(f"invoice {invoice.number} {invoice.customer.name} EUR {invoice.gross}")


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


@invoice_group.command("import-payments")
@click.argument("statement", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_payments(statement: Path) -> None:
    """Match a bank statement CSV (date, amount, description) to open invoices."""
    with cli_session() as session:
        report = import_bank_csv(session, statement.read_text(encoding="utf-8-sig"))
    for number, amount in report.matched:
        click.echo(f"paid {number}: EUR {amount}")
    for problem in report.unmatched:
        click.echo(f"unmatched {problem}")


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

"""``scm-ingest``: the operator's commands (database, customers, tokens, users, serving)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import timedelta

import click

from ingest.agents_cli import agent_group
from ingest.billing_cli import COMMANDS as BILLING_COMMANDS
from ingest.cli_common import cli_session
from ingest.config import load_settings
from ingest.db import Database
from ingest.domain.accounts import (
    create_user,
    find_customer,
    get_or_create_customer,
    invite_mail_text,
    invite_user,
    password_reset_token,
    set_customer_code,
)
from ingest.domain.enrollment import create_token
from ingest.i18n import LANGUAGES
from ingest.jobs.queue import JobQueue, utc_now
from ingest.jobs_cli import jobs_group
from ingest.mail import mailer_from_env, try_send
from ingest.migrate import upgrade
from ingest.monitoring_cli import COMMANDS as MONITORING_COMMANDS
from ingest.observability import configure_logging
from ingest.portal_cli import post_group
from ingest.supplies_cli import COMMANDS as SUPPLIES_COMMANDS


@click.group()
def main() -> None:
    """SCM ingest service administration."""
    configure_logging(logging.INFO)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest revision."""
    upgrade(load_settings().database_url)
    click.echo("database is up to date")


@main.command("worker")
@click.option("--threads", default=4, show_default=True, help="job threads in this process")
def worker(threads: int) -> None:
    """Run follow-up jobs until stopped: Dramatiq workers (``SCM_JOB_BROKER``) plus the relay
    that sends the due jobs and starts scheduled ones; without a broker it runs them itself."""
    settings = load_settings()
    database = Database(settings.database_url)
    queue = JobQueue(database, settings.job_broker)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(
        f"worker: {'dramatiq, ' + str(threads) + ' threads' if not queue.inline else 'inline'}"
    )
    try:
        queue.run_worker(threads, stop, utc_now)
    finally:
        database.dispose()


@main.group()
def customer() -> None:
    """Customers."""


@customer.command("create")
@click.argument("name")
@click.option("--referent-name", help='the "Referente MFP"')
@click.option("--referent-email", help="where meter-read requests go")
@click.option("--referent-phone")
@click.option("--vat-number")
@click.option("--billing-address")
@click.option("--sales-rep-name", help="the dealer's salesperson for this customer")
@click.option("--sales-rep-email")
@click.option("--sales-rep-phone")
@click.option("--tax-code", help="codice fiscale (electronic invoice)")
@click.option("--sdi-code", help="7-character recipient code (codice destinatario)")
@click.option("--pec", help="certified mail address, when there is no SDI code")
@click.option("--street", help="billing address: street and number")
@click.option("--postcode")
@click.option("--city")
@click.option("--province", help="two letters, e.g. MI")
@click.option("--country", help="two letters (default IT); its language is the documents' default")
@click.option("--code", help='the customer code, a sign-in name ("codice utente"); default: 00042')
@click.option(
    "--language",
    type=click.Choice(sorted(LANGUAGES)),
    help="language of its documents, e-mails and pages (default: the country's for documents)",
)
def customer_create(
    name: str, code: str | None, language: str | None, **contact: str | None
) -> None:
    """Create customer NAME, or update its contact details if it exists."""
    with cli_session() as session:
        row = get_or_create_customer(session, name)
        for field, value in contact.items():
            if value:
                setattr(row, field, value.strip())
        if code:
            set_customer_code(session, row, code)
        row.language = language or row.language
        click.echo(f"customer {row.id}: {row.name} (code {row.code})")


@main.group()
def token() -> None:
    """One-time enrollment tokens."""


@token.command("create")
@click.option("--customer", "customer_name", required=True, help="customer the agent belongs to")
@click.option("--ttl-days", default=7, show_default=True, type=click.IntRange(1, 90))
def token_create(customer_name: str, ttl_days: int) -> None:
    """Print a new one-time enrollment token (shown once, stored only as a hash)."""
    with cli_session() as session:
        value = create_token(
            session, find_customer(session, customer_name), ttl=timedelta(days=ttl_days)
        )
    click.echo(value)


@main.group()
def user() -> None:
    """Portal and staff users."""


@user.command("create")
@click.option("--email", required=True)
@click.option("--customer", "customer_name", help="the customer this user belongs to")
@click.option("--staff", is_flag=True, help="dealer staff: sees every customer")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def user_create(email: str, customer_name: str | None, staff: bool, password_stdin: bool) -> None:
    """Create a user; the password is read from stdin or prompted, never taken as an argument."""
    if bool(customer_name) == staff:
        raise click.UsageError("give exactly one of --customer NAME and --staff")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with cli_session() as session:
        owner = find_customer(session, customer_name) if customer_name else None
        row = create_user(session, email, password, customer=owner, staff=staff)
        click.echo(f"user {row.id}: {row.email}")


@user.command("invite")
@click.option("--email", required=True)
@click.option("--customer", "customer_name", required=True)
def user_invite(email: str, customer_name: str) -> None:
    """Create a portal user who chooses the password from an e-mailed link (valid 7 days)."""
    settings = load_settings()
    with cli_session() as session:
        customer = find_customer(session, customer_name)
        row = invite_user(session, customer, email)
        token = password_reset_token(row, settings.secret_key, invite=True)
        link = f"{settings.public_url}/password/reset/{token}"
        subject, text = invite_mail_text(row, customer, link)
    if try_send(mailer_from_env(), row.email, subject, text):
        click.echo(f"user {row.email} invited by e-mail")
    else:
        click.echo(f"user {row.email} created; no mail sent, give them this link: {link}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the API and the portal (threaded; use gunicorn ingest.wsgi:app in production)."""
    from werkzeug.serving import run_simple

    from ingest.app import create_app
    from ingest.observability import RedactSecrets

    logging.getLogger("werkzeug").addFilter(RedactSecrets())
    run_simple(host, port, create_app(), threaded=True, use_reloader=False)


main.add_command(agent_group)
main.add_command(jobs_group)
for _command in (*BILLING_COMMANDS, *SUPPLIES_COMMANDS, *MONITORING_COMMANDS, post_group):
    main.add_command(_command)

"""``scm-ingest api-token`` / ``alerts`` / ``webhook`` / ``outbox``: the read API's tokens,
alert evaluation and the notification outbox from the command line (cron or a shell)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from ingest.cli_common import cli_session
from ingest.domain.alerts import evaluate_alerts, open_alerts, send_digests
from ingest.domain.api_tokens import create_api_token, list_api_tokens, revoke_api_token
from ingest.domain.outbox import add_webhook
from ingest.notifications import deliver
from shared.reading import format_timestamp


def _now() -> datetime:
    return datetime.now(UTC)


@click.group("api-token")
def token_group() -> None:
    """Bearer tokens for the read API (/api/v1/openapi.json lists its endpoints)."""


@token_group.command("create")
@click.option("--name", required=True, help="who or what uses it, e.g. the ERP")
def token_create(name: str) -> None:
    """Create a token and print it: it is shown this once, only its hash is kept."""
    with cli_session() as session:
        _, secret = create_api_token(session, name, _now())
    click.echo(secret)


@token_group.command("list")
def token_list() -> None:
    """Tokens with their names and dates (never the secrets)."""
    with cli_session() as session:
        for row in list_api_tokens(session):
            used = format_timestamp(row.last_used_at) if row.last_used_at else "never"
            state = "revoked" if row.revoked_at else "active"
            click.echo(
                f"{row.id}  {row.name}  {state}  "
                f"created {format_timestamp(row.created_at)}  used {used}"
            )


@token_group.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Stop a token working at once."""
    with cli_session() as session:
        row = revoke_api_token(session, token_id, _now())
    click.echo(f"token {row.id} ({row.name}) revoked")


@click.group("alerts")
def alerts_group() -> None:
    """Fleet alerts: silent agents and printers, device errors, low toner, flagged reads."""


@alerts_group.command("evaluate")
def alerts_evaluate() -> None:
    """Run the alert rules once (the worker does this every few minutes)."""
    with cli_session() as session:
        changes = evaluate_alerts(session, _now())
    click.echo(
        f"{len(changes.opened)} opened, {changes.refreshed} still open, "
        f"{len(changes.cleared)} cleared"
    )


@alerts_group.command("list")
def alerts_list() -> None:
    """Open alerts, oldest first."""
    with cli_session() as session:
        for alert in open_alerts(session):
            click.echo(
                f"#{alert.id}  {alert.kind}  {alert.severity}  {alert.customer.name}  "
                f"since {format_timestamp(alert.opened_at)}  {alert.message}"
            )


@click.group("webhook")
def webhook_group() -> None:
    """Webhooks: the dealer's systems receive signed alert events."""


@webhook_group.command("add")
@click.option("--url", required=True)
@click.option("--event", "events", multiple=True, help="alert.opened, alert.cleared (default: all)")
def webhook_add(url: str, events: tuple[str, ...]) -> None:
    """Register a receiver and print its signing secret (X-SCM-Signature: t=..,v1=HMAC-SHA256)."""
    with cli_session() as session:
        _, secret = add_webhook(session, url, list(events), _now())
    click.echo(secret)


@click.group("outbox")
def outbox_group() -> None:
    """The notification outbox (e-mails and webhooks waiting to be delivered)."""


@outbox_group.command("deliver")
def outbox_deliver() -> None:
    """Deliver what is due and queue daily digests (the worker does this every minute)."""
    with cli_session() as session:
        send_digests(session, _now())
        report = deliver(session, _now())
    click.echo(f"{report.sent} sent, {report.retried} to retry, {report.failed} given up")


COMMANDS = (token_group, alerts_group, webhook_group, outbox_group)

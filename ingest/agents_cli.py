"""``scm-ingest agent ...``: staff commands to see agents and set their remote configuration.

The configuration carries SNMP credentials, so it is read from a file or standard input (never a
command-line argument, which ``ps`` and shell history would show) and printed redacted unless
``--reveal`` is asked for.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import click

from ingest.agent_downloads import releases_store
from ingest.cli_common import cli_session
from ingest.config import load_settings
from ingest.domain.accounts import find_customer
from ingest.domain.agent_refusals import Refusal, refusals, set_agent_active
from ingest.domain.agent_releases import add_release, list_releases, roll_out
from ingest.domain.agents import agent_by_public_id, current_config, list_agents, set_config
from shared.reading import format_timestamp


@click.group("agent")
def agent_group() -> None:
    """Agents at customer sites: status and remote configuration."""


@agent_group.command("list")
@click.option("--customer", "customer_name", help="only this customer's agents")
def agent_list(customer_name: str | None) -> None:
    """One line per agent: id, customer, host, version, last heartbeat, backlog, drops.

    An agent the API refuses (disabled, re-keyed) is marked REFUSED with the reason, since
    when and how often: its site keeps every reading until it is fixed or re-enabled.
    """
    with cli_session() as session:
        customer = find_customer(session, customer_name) if customer_name else None
        refused = refusals(session)
        for row in list_agents(session, customer):
            agent, status = row.agent, row.status
            beat = "never" if status is None else format_timestamp(status.received_at)
            backlog = "-" if status is None else str(status.backlog_readings)
            dropped = "-" if status is None else str(status.dropped_total)
            click.echo(
                f"{agent.public_id}  {agent.customer.name}  {agent.hostname or '-'}  "
                f"v{agent.agent_version or '?'}  heartbeat {beat}  backlog {backlog}  "
                f"dropped {dropped}  config v{row.config_version}"
                + ("" if agent.active else "  (disabled)")
                + _refusal_text(refused.get(agent.id))
            )


def _refusal_text(refusal: Refusal | None) -> str:
    if refusal is None:
        return ""
    return (
        f"  REFUSED {refusal.reason} since {format_timestamp(refusal.first_at)}"
        f" (last {format_timestamp(refusal.last_at)}, {refusal.count} times)"
    )


@agent_group.command("disable")
@click.argument("agent_id")
def agent_disable(agent_id: str) -> None:
    """Refuse AGENT_ID's requests; it keeps its readings and retries every few hours."""
    with cli_session() as session:
        set_agent_active(session, agent_by_public_id(session, agent_id), False)
        click.echo(f"agent {agent_id}: disabled")


@agent_group.command("enable")
@click.argument("agent_id")
def agent_enable(agent_id: str) -> None:
    """Accept AGENT_ID again; it sends its backlog at its next heartbeat."""
    with cli_session() as session:
        set_agent_active(session, agent_by_public_id(session, agent_id), True)
        click.echo(f"agent {agent_id}: enabled")


@agent_group.group("config")
def config_group() -> None:
    """The configuration an agent fetches: ranges, targets, credentials, intervals."""


@config_group.command("set")
@click.argument("agent_id")
@click.option(
    "--file",
    "source",
    type=click.File("r", encoding="utf-8"),
    default="-",
    show_default="standard input",
    help="JSON: {ranges, targets, credentials, intervals}",
)
def config_set(agent_id: str, source: IO[str]) -> None:
    """Replace AGENT_ID's configuration; the agent applies it at its next heartbeat."""
    try:
        data = json.load(source)
    except json.JSONDecodeError as err:
        raise click.ClickException(f"not valid JSON: {err}") from err
    with cli_session() as session:
        row = set_config(
            session, agent_by_public_id(session, agent_id), data, now=datetime.now(UTC)
        )
        click.echo(f"agent {agent_id}: configuration version {row.version}")


@config_group.command("show")
@click.argument("agent_id")
@click.option("--reveal", is_flag=True, help="print the credentials' secrets too")
def config_show(agent_id: str, reveal: bool) -> None:
    """Print AGENT_ID's configuration as JSON, credentials redacted unless --reveal."""
    with cli_session() as session:
        version, config = current_config(session, agent_by_public_id(session, agent_id))
    body = config.to_dict() if reveal else config.redacted()
    click.echo(json.dumps({"version": version, "config": body}, indent=2))


@agent_group.group("release")
def release_group() -> None:
    """Signed agent releases: publish, roll out customer by customer, list."""


@release_group.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--version", "version", required=True, help="the version the manifest signs")
@click.option(
    "--manifest",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the signed manifest (default: FILE.release.json, from installers/release_sign.py)",
)
def release_add(file: Path, version: str, manifest: Path | None) -> None:
    """Publish FILE, signed off this host with the release key; it is offered to nobody yet."""
    manifest = manifest or file.with_name(file.name + ".release.json")
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise click.ClickException(f"{manifest}: {err}") from err
    if not isinstance(data, dict) or data.get("version") != version:
        raise click.ClickException(f"{manifest} does not sign version {version}")
    with cli_session() as session:
        store = releases_store(load_settings().instance_path)
        row = add_release(session, file, data, store, datetime.now(UTC))
        click.echo(f"release {row.version} published ({row.size} bytes, sha256 {row.sha256})")


@release_group.command("rollout")
@click.argument("version")
@click.option("--customer", "customer_name", help="offer it to this customer's agents")
@click.option("--everyone", is_flag=True, help="offer it to every agent")
def release_rollout(version: str, customer_name: str | None, everyone: bool) -> None:
    """Offer VERSION to one customer's agents (a staged rollout) or to everyone."""
    if bool(customer_name) == everyone:
        raise click.ClickException("give either --customer NAME or --everyone")
    with cli_session() as session:
        customer = find_customer(session, customer_name) if customer_name else None
        agents = roll_out(session, version, customer, datetime.now(UTC))
        click.echo(f"release {version} offered to {len(agents)} agents (at their next heartbeat)")


@release_group.command("list")
def release_list() -> None:
    """Every published release and whom it is offered to."""
    with cli_session() as session:
        for row, customers in list_releases(session):
            offered = "everyone" if row.everyone else (", ".join(customers) or "nobody yet")
            click.echo(f"{row.version}  {row.size} bytes  sha256 {row.sha256[:16]}  {offered}")

"""``scm-ingest post``: publish news, offers and documents in the portal."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from ingest.cli_common import cli_session
from ingest.domain.accounts import find_customer
from ingest.domain.posts import MAX_FILE_BYTES, PostRequest, publish


@click.group("post")
def post_group() -> None:
    """Portal news, offers and documents (Infobox)."""


@post_group.command("add")
@click.option("--kind", type=click.Choice(["news", "offer", "document"]), required=True)
@click.option("--customer", "customer_name", help="required for offers and documents")
@click.option("--title", required=True)
@click.option("--body", default="")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def post_add(
    kind: str, customer_name: str | None, title: str, body: str, path: Path | None
) -> None:
    """Publish a post; offers and documents belong to one customer."""
    if path is not None and path.stat().st_size > MAX_FILE_BYTES:
        raise click.UsageError("the file is over 20 MB")
    with cli_session() as session:
        customer = find_customer(session, customer_name) if customer_name else None
        request = PostRequest(
            kind=kind,
            title=title,
            body=body,
            customer=customer,
            filename=path.name if path else None,
            data=path.read_bytes() if path else None,
        )
        post = publish(session, request, datetime.now(UTC))
        click.echo(f"{kind} {post.id}: {title}")

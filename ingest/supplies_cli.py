"""``scm-ingest`` commands for consumables: catalogue, customer reorder settings, shipping."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import select

from ingest.cli_common import cli_session
from ingest.documents import delivery_note_pdf, labels_pdf
from ingest.domain.accounts import find_customer
from ingest.domain.catalogue import Article, upsert_consumable
from ingest.domain.errors import DomainError
from ingest.domain.orders import dispatch, ship_order
from ingest.domain.reorder_rules import REORDERED_KINDS
from ingest.models import DeliveryNote, Order
from shared.reading import SUPPLY_KINDS


@click.group("consumable")
def consumable_group() -> None:
    """The consumables catalogue."""


@consumable_group.command("add")
@click.option("--code", required=True, help="the dealer's article ID")
@click.option("--description", required=True)
@click.option("--models", required=True, help='models it fits, separated by ";"')
@click.option("--kind", type=click.Choice(sorted(SUPPLY_KINDS)), default="toner", show_default=True)
@click.option("--colour", help="black, cyan, magenta, yellow... (none for waste boxes)")
@click.option("--yield", "yield_pages", type=int, help="pages per cartridge")
@click.option("--price", default="0", show_default=True)
@click.option("--charged", is_flag=True, help="not included in the cost-per-copy contract")
@click.option("--manufacturer")
def consumable_add(
    code: str,
    description: str,
    models: str,
    kind: str,
    colour: str | None,
    yield_pages: int | None,
    price: str,
    charged: bool,
    manufacturer: str | None,
) -> None:
    """Add (or update) a catalogue article."""
    with cli_session() as session:
        article = Article(
            code=code,
            description=description,
            models=models,
            kind=kind,
            colour=colour,
            yield_pages=yield_pages,
            price=price,
            included=not charged,
            manufacturer=manufacturer,
        )
        row = upsert_consumable(session, article)
        click.echo(f"consumable {row.article_code}: {row.description}")


@consumable_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def consumable_import(path: Path) -> None:
    """Import a catalogue CSV: code, description, models, kind, colour, yield, price, included."""
    with cli_session() as session, path.open(encoding="utf-8-sig") as handle:
        count = 0
        for row in csv.DictReader(handle):
            article = Article(
                code=row["code"],
                description=row["description"],
                models=row["models"],
                kind=row.get("kind") or "toner",
                colour=row.get("colour") or None,
                yield_pages=int(row["yield"]) if row.get("yield") else None,
                price=row.get("price") or "0",
                included=(row.get("included") or "yes").lower() in ("yes", "y", "1", "true"),
                manufacturer=row.get("manufacturer") or None,
            )
            upsert_consumable(session, article)
            count += 1
    click.echo(f"{count} article(s) imported")


@click.command("reorder-settings")
@click.option("--customer", "customer_name", required=True)
@click.option("--lead-days", type=click.IntRange(0, 90))
@click.option("--threshold", type=click.IntRange(0, 100), help="reorder at or below this %")
def reorder_settings(customer_name: str, lead_days: int | None, threshold: int | None) -> None:
    """Set a customer's reorder lead time and level threshold (kinds: {kinds})."""
    with cli_session() as session:
        customer = find_customer(session, customer_name)
        if lead_days is not None:
            customer.reorder_lead_days = lead_days
        if threshold is not None:
            customer.reorder_threshold_percent = threshold
        click.echo(
            f"{customer.name}: lead time {customer.reorder_lead_days} days, "
            f"threshold {customer.reorder_threshold_percent}%"
        )


reorder_settings.help = (reorder_settings.help or "").format(
    kinds=", ".join(sorted(REORDERED_KINDS))
)


@click.group("shipping")
def shipping_group() -> None:
    """Orders, delivery notes (DDT) and labels."""


@shipping_group.command("list")
def shipping_list() -> None:
    """Open orders and their delivery notes."""
    with cli_session() as session:
        for order in session.scalars(
            select(Order).where(Order.status == "open").order_by(Order.id)
        ):
            note = session.scalar(select(DeliveryNote).where(DeliveryNote.order_id == order.id))
            click.echo(
                f"{order.number} {order.customer.name} {order.source} "
                f"{len(order.lines)} line(s) {note.number + ' ' + note.status if note else ''}"
            )


@shipping_group.command("ship")
@click.argument("order_number")
def shipping_ship(order_number: str) -> None:
    """Prepare the delivery note of ORDER_NUMBER."""
    with cli_session() as session:
        order = session.scalar(select(Order).where(Order.number == order_number))
        if order is None:
            raise DomainError("not_found", f"no order {order_number}")
        note = ship_order(session, order, datetime.now(UTC))
        click.echo(f"{note.number} for {order.number}")


@shipping_group.command("documents")
@click.argument("ddt_number")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--dispatch", "do_dispatch", is_flag=True, help="also mark it shipped")
def shipping_documents(ddt_number: str, out_dir: Path, do_dispatch: bool) -> None:
    """Write the delivery note and its labels as PDFs (and optionally dispatch it)."""
    with cli_session() as session:
        note = session.scalar(select(DeliveryNote).where(DeliveryNote.number == ddt_number))
        if note is None:
            raise DomainError("not_found", f"no delivery note {ddt_number}")
        out_dir.mkdir(parents=True, exist_ok=True)
        stem = ddt_number.replace("/", "-")
        (out_dir / f"{stem}.pdf").write_bytes(delivery_note_pdf(note))
        (out_dir / f"{stem}-labels.pdf").write_bytes(labels_pdf(note))
        if do_dispatch:
            dispatch(session, note, datetime.now(UTC))
    click.echo(f"wrote {out_dir / (stem + '.pdf')} and {out_dir / (stem + '-labels.pdf')}")


COMMANDS = (consumable_group, reorder_settings, shipping_group)

"""The consumables catalogue: articles, their prices, and the one rule for "this article fits
this machine" (its model is among the article's models, separated by ";", compared without case
and spaces)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.domain.errors import DomainError
from ingest.models import Consumable, Machine
from shared.reading import SUPPLY_KINDS


@dataclass(frozen=True, slots=True)
class Article:
    """A catalogue article as staff describe it (web form, CLI, CSV import)."""

    code: str
    description: str
    models: str
    kind: str = "toner"
    colour: str | None = None
    yield_pages: int | None = None
    price: str | Decimal = "0"
    included: bool = True
    manufacturer: str | None = None


def upsert_consumable(session: Session, article: Article) -> Consumable:
    """Create or update the article ``article.code``."""
    code = article.code.strip()
    if not code or not article.description.strip():
        raise DomainError("bad_article", "an article needs a code and a description")
    if article.kind not in SUPPLY_KINDS:
        kinds = ", ".join(sorted(SUPPLY_KINDS))
        raise DomainError("bad_article", f"kind must be one of {kinds}")
    try:
        amount = Decimal(str(article.price).replace(",", "."))
    except InvalidOperation as err:
        raise DomainError("bad_article", f"price is not a number: {article.price!r}") from err
    if amount < 0 or (article.yield_pages is not None and article.yield_pages < 0):
        raise DomainError("bad_article", "price and yield cannot be negative")
    row = session.scalar(select(Consumable).where(Consumable.article_code == code))
    if row is None:
        row = Consumable(article_code=code)
        session.add(row)
    row.description, row.models, row.kind = (
        article.description.strip(),
        article.models.strip(),
        article.kind,
    )
    row.colour, row.yield_pages, row.price = article.colour or None, article.yield_pages, amount
    row.included_in_contract, row.manufacturer = article.included, article.manufacturer or None
    session.flush()
    return row


def catalogue(session: Session, query: str = "") -> list[Consumable]:
    """Articles by code, narrowed to those whose code, description or models contain ``query``."""
    rows = session.scalars(select(Consumable).order_by(Consumable.article_code))
    needle = query.strip().lower()
    return [
        r
        for r in rows
        if not needle or needle in f"{r.article_code} {r.description} {r.models}".lower()
    ]


def fits(article: Consumable, machine: Machine) -> bool:
    """True when ``article`` is listed for ``machine``'s model."""
    model = _fold(machine.model)
    return bool(model) and model in {_fold(m) for m in article.models.split(";") if m.strip()}


def _fold(text: str | None) -> str:
    return "".join((text or "").lower().split())

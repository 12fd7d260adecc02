"""Reorders staff finish by hand: the rule opened them but found no article for the model.

Staff either choose the article (the order line gets it, with its price) or dismiss the reorder
(the line leaves the order; the slot may reorder again later).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.domain.catalogue import fits
from ingest.domain.errors import DomainError
from ingest.domain.orders import unit_price
from ingest.models import Consumable, DeliveryNote, OrderLine, Reorder


def reorders_to_complete(session: Session) -> list[Reorder]:
    """Open reorders without an article, oldest first."""
    query = select(Reorder).where(Reorder.status == "open", Reorder.consumable_id.is_(None))
    return list(session.scalars(query.order_by(Reorder.created_at, Reorder.id)))


def _open_line(session: Session, reorder: Reorder) -> OrderLine | None:
    """The reorder's order line while its order has not been shipped."""
    line = session.scalar(select(OrderLine).where(OrderLine.reorder_id == reorder.id))
    if line is None:
        return None
    shipped = session.scalar(select(DeliveryNote.id).where(DeliveryNote.order_id == line.order_id))
    if shipped is not None:
        raise DomainError("already_shipped", "the order of this reorder is already shipped", 409)
    return line


def choose_article(session: Session, reorder: Reorder, article: Consumable) -> None:
    """Give the reorder its article; its order line takes the article's text and price."""
    if reorder.status != "open":
        raise DomainError("reorder_closed", "the reorder is no longer open", 409)
    if not fits(article, reorder.machine):
        raise DomainError("bad_article", f"{article.article_code} does not fit this machine")
    reorder.consumable_id = article.id
    line = _open_line(session, reorder)
    if line is not None:
        line.consumable_id = article.id
        line.description = article.description[:300]
        line.unit_price = unit_price(article)
    session.flush()


def dismiss_reorder(session: Session, reorder: Reorder, now: datetime) -> None:
    """Close the reorder without shipping anything; its line leaves the order."""
    if reorder.status != "open":
        raise DomainError("reorder_closed", "the reorder is no longer open", 409)
    line = _open_line(session, reorder)
    if line is not None:
        session.delete(line)
    reorder.status, reorder.closed_at, reorder.open_slot = "dismissed", now, None
    session.flush()

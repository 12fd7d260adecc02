"""What the dealer publishes in the portal: news, offers, and documents ("Infobox")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ingest.models.accounts import Customer
from ingest.models.base import Base


class Post(Base):
    """``kind`` is ``news`` (for everyone unless a customer is set), ``offer`` or ``document``
    (always for one customer: a commercial offer, a signed contract, a communication)."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    published_at: Mapped[datetime]

    customer: Mapped[Customer | None] = relationship()

"""Gap-free document numbers: one counter row per kind and year, locked and incremented in the
caller's transaction, so a rolled-back document gives its number back."""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.models import DocumentCounter

FORMATS: Final = {
    "invoice": "{year}/{n:06d}",
    "order": "ORD-{year}-{n:05d}",
    "ddt": "DDT-{year}-{n:05d}",
    "ticket": "TK-{year}-{n:05d}",
    "credit_note": "NC-{year}-{n:05d}",
}


def next_number(session: Session, kind: str, year: int) -> str:
    """The next number of ``kind`` for ``year``, formatted."""
    counter = session.scalar(
        select(DocumentCounter)
        .where(DocumentCounter.kind == kind, DocumentCounter.year == year)
        .with_for_update()
    )
    if counter is None:
        counter = DocumentCounter(kind=kind, year=year, last_number=0)
        session.add(counter)
    counter.last_number += 1
    session.flush()
    return FORMATS[kind].format(year=year, n=counter.last_number)

"""Gap-free document numbers: one counter row per kind and year, locked and incremented in the
caller's transaction, so a rolled-back document gives its number back."""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.domain.bulk import insert_rows
from ingest.models import DocumentCounter

FORMATS: Final = {
    "invoice": "{year}/{n:06d}",
    "order": "ORD-{year}-{n:05d}",
    "ddt": "DDT-{year}-{n:05d}",
    "ticket": "TK-{year}-{n:05d}",
    "credit_note": "NC-{year}-{n:05d}",
}


def next_number(session: Session, kind: str, year: int) -> str:
    """The next number of ``kind`` for ``year``, formatted.

    The year's counter is created with ``insert ... on conflict do nothing`` before it is
    locked, so two transactions numbering the year's first document both succeed, one after
    the other, instead of one failing on the duplicate key.
    """
    insert_rows(
        session,
        DocumentCounter.__table__,
        [{"kind": kind, "year": year, "last_number": 0}],
        conflict=("kind", "year"),
    )
    counter = session.scalars(
        select(DocumentCounter)
        .where(DocumentCounter.kind == kind, DocumentCounter.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    counter.last_number += 1
    session.flush()
    return FORMATS[kind].format(year=year, n=counter.last_number)

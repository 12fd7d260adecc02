"""One page of a long list: lists with thousands of rows are shown fifty at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

PAGE_SIZE: Final = 50
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """``items`` of page ``number`` (from 1) out of ``total`` rows."""

    items: list[T]
    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        """How many pages there are (at least one, even when empty)."""
        return max(1, -(-self.total // self.size))


def page_number(raw: Any) -> int:
    """A page number from a query string: anything unusable is page 1."""
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), 10**6)


def paginate(session: Session, query: Select[Any], number: int, size: int = PAGE_SIZE) -> Page[Any]:
    """Page ``number`` of ``query`` (which must be ordered), with the total row count; a number
    past the end gives the last page."""
    total = count_rows(session, query)
    number = min(number, max(1, -(-total // size)))
    return Page(slice_rows(session, query, (number - 1) * size, size), number, total, size)


def count_rows(session: Session, query: Select[Any]) -> int:
    """How many rows ``query`` has, counted by the database."""
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def slice_rows(session: Session, query: Select[Any], offset: int, limit: int) -> list[Any]:
    """``limit`` rows of ``query`` from ``offset``."""
    return list(session.scalars(query.offset(offset).limit(limit)))


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What a person narrowed a list to: a page, a search text, a sort key."""

    number: int = 1
    search: str = ""
    sort: str = ""


def list_query(args: Any, sorts: tuple[str, ...]) -> ListQuery:
    """The list query in a request's arguments; an unknown sort is the first one."""
    sort = str(args.get("sort") or "")
    search = " ".join(str(args.get("q") or "").split())[:100]
    return ListQuery(page_number(args.get("page")), search, sort if sort in sorts else sorts[0])


def like_pattern(search: str) -> str:
    """A case-insensitive LIKE pattern for ``search`` (its own wildcards taken literally)."""
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"

"""Set-based writes that work on SQLite and PostgreSQL: many rows per statement, never per row.

On PostgreSQL a list of rows travels as **one** ``jsonb`` parameter that the server shreds with
``jsonb_to_recordset`` (one round trip and almost no per-row work in the driver, the fastest way
measured in notes/ingest-protocol.md); on SQLite ``executemany`` runs in C and is as fast.
Ids that later rows must reference are taken up front (a sequence range on PostgreSQL, the
next ids under SQLite's single writer lock), so no statement needs ``RETURNING`` per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Table, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.type_api import TypeEngine


def is_postgres(session: Session) -> bool:
    """True when the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def greatest(session: Session, *values: Any) -> ColumnElement[Any]:
    """SQL ``greatest`` (PostgreSQL) or the scalar ``max`` (SQLite)."""
    return func.greatest(*values) if is_postgres(session) else func.max(*values)


def least(session: Session, *values: Any) -> ColumnElement[Any]:
    """SQL ``least`` (PostgreSQL) or the scalar ``min`` (SQLite)."""
    return func.least(*values) if is_postgres(session) else func.min(*values)


def dialect_insert(session: Session, table: Table) -> Any:
    """The backend's ``INSERT`` construct, which knows ``on_conflict_do_update``."""
    if is_postgres(session):
        return postgresql.insert(table)
    return sqlite.insert(table)


def take_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table``, reserved for this transaction."""
    if count == 0:
        return []
    if is_postgres(session):
        rows = session.execute(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table.name, "n": count},
        )
        return [row[0] for row in rows]
    # SQLite: the caller already wrote in this transaction, so it holds the only write lock.
    start = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0
    return list(range(start + 1, start + 1 + count))


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) in one statement."""
    if not rows:
        return
    if not is_postgres(session):
        session.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    spec = ", ".join(f"{name} {_pg_type(table.c[name].type)}" for name in columns)
    names = ", ".join(columns)
    statement = text(
        f"INSERT INTO {table.name} ({names}) "  # noqa: S608 - names come from the model
        f"SELECT {names} FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r({spec})"
    )
    session.execute(statement, {"rows": orjson.dumps(list(rows), default=_json_default).decode()})


def _pg_type(column_type: TypeEngine[Any]) -> str:
    """The PostgreSQL type to read a column as from the JSON record."""
    name = type(column_type).__name__
    if name == "UtcDateTime":
        return "timestamptz"
    if name == "JSON":
        return "json"
    return str(column_type.compile(dialect=_pg_dialect()))


def _pg_dialect() -> Any:
    return postgresql.dialect()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"cannot send {type(value).__name__} as JSON")

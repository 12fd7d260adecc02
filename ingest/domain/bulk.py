"""Set-based writes that work on SQLite and PostgreSQL: many rows per statement, never per row.

On PostgreSQL rows that only need inserting go by binary ``COPY`` (``copy_rows``: the least work
for both sides, measured); rows that need ``ON CONFLICT`` or ``RETURNING`` travel as **one**
``json`` parameter that the server shreds with ``json_to_recordset`` (one round trip and almost
no per-row work in the driver; notes/ingest-protocol.md).  A ``json`` column, such as a
reading's payload, is stored as sent, not parsed into ``jsonb`` and printed back (measured 5.2
against 3.4 ms per 100 readings).  On SQLite ``executemany`` runs in C and is as fast.
Ids that later rows must reference are taken up front (a sequence range on PostgreSQL, the
next ids under SQLite's single writer lock), so no statement needs ``RETURNING`` per row.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Generic, TypeVar

import orjson
import psycopg

try:
    import fcntl
except ImportError:  # Windows: SQLite's own busy handler only
    fcntl = None  # type: ignore[assignment]
from sqlalchemy import (
    JSON,
    ColumnElement,
    Select,
    Table,
    Text,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session


@contextmanager
def single_writer(session: Session) -> Iterator[None]:
    """On SQLite, writers on the upload path take turns through a lock file beside the database.

    SQLite lets one writer in at a time and its busy handler sleeps 1, 2, 5, 10... ms between
    tries, so two web workers wasted most of their time asleep while the lock was free; a
    blocked ``flock`` wakes the moment it is released.  PostgreSQL locks rows: nothing to do.
    """
    path = session.get_bind().url.database
    if is_postgres(session) or fcntl is None or not path or path == ":memory:":
        yield
        return
    with Path(f"{path}.writer-lock").open("a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def core(session: Session) -> Connection:
    """The session's connection, for Core statements on the upload path: ``Session.execute``
    adds about 0.1 ms of ORM bookkeeping to every statement.  Pending ORM changes are flushed
    first, as ``Session.execute`` would."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection()


def backend_insert(postgres: bool, table: Table) -> Any:
    """The backend's ``INSERT`` construct, which knows ``on_conflict_do_update``."""
    return postgresql.insert(table) if postgres else sqlite.insert(table)


def greatest(postgres: bool, *values: Any) -> ColumnElement[Any]:
    """SQL ``greatest`` (PostgreSQL) or the scalar ``max`` (SQLite)."""
    return func.greatest(*values) if postgres else func.max(*values)


T = TypeVar("T")


class DatabaseMemory(Generic[T]):
    """What this process remembers of each database it talks to (the session's engine), made
    by ``factory`` on first use: tests and tools open several databases in one process, and
    what one holds must never answer for another.  Forgotten with the engine."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._by_engine: weakref.WeakKeyDictionary[Any, T] = weakref.WeakKeyDictionary()

    def of(self, session: Session) -> T:
        bind = session.get_bind()
        memory = self._by_engine.get(bind)
        if memory is None:
            memory = self._by_engine[bind] = self._factory()
        return memory


def is_postgres(session: Session) -> bool:
    """True when the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def where_in(
    postgres: bool, statement: Select[Any], column: ColumnElement[Any], name: str
) -> Select[Any]:
    """``statement`` kept to rows whose ``column`` is one of the list in parameter ``name``.

    The list travels as one JSON parameter (the driver adapted a list parameter to an array
    value by value, in Python).  On PostgreSQL one index probe per value (the JSON array's
    elements, joined laterally): the statement text is the same whatever the number of
    values, and the cost grows with the values, not with the table, whatever the planner's
    statistics say.
    ``column in ($1, ...)`` or ``= any($1)`` can be planned as a scan that tests every value
    against every row (measured: 40 ms a batch at 3,500 devices before the table was analysed).
    """
    values = bindparam(name, type_=JSON)
    if not postgres:
        # An expanding ``in (?, ?, ...)`` would be rendered anew for every call.
        keys = func.json_each(values).table_valued("value")
        return statement.where(column.in_(select(keys.c.value)))
    keys = func.json_array_elements_text(values).table_valued("key").render_derived(name="k")
    # OFFSET 0 keeps the subquery a per-key probe (PostgreSQL would otherwise flatten it).
    probe = statement.where(column == keys.c.key).offset(0).lateral("d")
    return select(*probe.c).select_from(keys).join(probe, true())


def take_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table``, reserved for this transaction."""
    if count == 0:
        return []
    if is_postgres(session):
        return core(session).scalar(select(reserved_ids(table, count))) or []
    # SQLite: the caller already wrote in this transaction, so it holds the only write lock.
    start = core(session).scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0
    return list(range(start + 1, start + 1 + count))


def serial_sequence(table: Table) -> str:
    """The sequence of ``table``'s ``id``: PostgreSQL names a serial column's own
    ``<table>_<column>_seq``, and keeps the name when the table is rebuilt (``history``)."""
    return f"{table.name}_id_seq"


def reserved_ids(table: Table, count: Any) -> Any:
    """PostgreSQL: an array of ``count`` fresh ids of ``table``, as an expression that another
    statement can return (the batch claim reserves its readings' ids in its own round trip).

    The sequence is named in the statement's text, so PostgreSQL resolves it once, when it
    plans; ``pg_get_serial_sequence`` in its place ran once per id (measured: 0.46 ms of the
    server's CPU for 100 ids, against 0.04 ms).
    """
    sequence = func.nextval(
        cast(literal_column(f"'{serial_sequence(table)}'"), postgresql.REGCLASS)
    )
    return (
        select(func.array_agg(sequence))
        .select_from(func.generate_series(1, count))
        .scalar_subquery()
    )


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Sequence[str] = (),
    update: Callable[[Any], dict[str, Any]] | None = None,
    returning: Sequence[str] = (),
) -> list[Any]:
    """Insert ``rows`` (dicts with the same keys) in one statement.

    With ``conflict`` (the unique columns), a row that exists is updated with ``update(excluded)``
    (or skipped when ``update`` is None).  ``returning`` columns come back on PostgreSQL only;
    SQLite callers read them back with a query (``executemany`` returns nothing).  Pass a
    module-level ``update`` function: the statement is then built once per process, not per
    call (building it cost more than running it, on the upload path).
    """
    if not rows:
        return []
    postgres = is_postgres(session)
    statement = _insert_statement(
        postgres, table, tuple(rows[0]), tuple(conflict), update, tuple(returning)
    )
    connection = core(session)
    if not postgres:
        form = _sqlite_form(statement, connection.dialect, tuple(rows[0]))
        if form is None:  # columns with defaults to fill in: SQLAlchemy's own way
            connection.execute(statement, list(rows))
            return []
        sql, order, processors, constants = form
        connection.exec_driver_sql(
            sql,
            [_driver_values((row[n] for n in order), processors) + constants for row in rows],
        )
        return []
    params = {"rows": json_rows(rows)}
    if returning:
        return list(connection.execute(statement, params).all())
    connection.execute(statement, params)
    return []


@dataclass(frozen=True, slots=True)
class PreparedRows:
    """Rows for ``table`` made ready before the write, but for the ``late`` columns, which only
    the write knows (the ids it reserves).  ``rows`` are tuples in ``columns`` order; on SQLite
    they already hold the driver's values (each column's own conversion, run before SQLite's
    single writer turn, which every other upload waits for)."""

    table: Table
    late: tuple[str, ...]
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def prepare_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    *,
    late: Sequence[str],
) -> PreparedRows:
    """``rows`` (tuples in ``columns`` order) ready for ``insert_prepared``.  A JSON column's
    value is the document already encoded (``str``): the caller wrote it once, in C."""
    if rows and not is_postgres(session):
        processors = _processors(table, tuple(columns), session.get_bind().dialect)
        if any(processors):
            rows = [_driver_values(row, processors) for row in rows]
    return PreparedRows(table, tuple(late), tuple(columns), rows)


def insert_prepared(
    session: Session, prepared: PreparedRows, late_values: Sequence[tuple[Any, ...]]
) -> None:
    """Insert prepared rows, each completed by its ``late`` values (integer ids, which need no
    conversion), given in the same order as the rows: one ``executemany`` on SQLite, a binary
    ``COPY`` on PostgreSQL (``copy_rows``)."""
    if not prepared.rows:
        return
    columns = prepared.late + prepared.columns
    rows = [late + row for late, row in zip(late_values, prepared.rows, strict=True)]
    if is_postgres(session):
        copy_rows(session, prepared.table, columns, rows)
        return
    dialect = session.get_bind().dialect
    core(session).exec_driver_sql(_plain_insert_sql(prepared.table, columns, dialect), rows)


def copy_rows(
    session: Session, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """PostgreSQL: ``rows`` written by a binary ``COPY`` in the session's transaction.

    The fastest way in, for rows that need no ``ON CONFLICT``: measured, 100 readings cost the
    server 2.0 ms of CPU, against 5.3 ms as one ``json`` parameter shredded by
    ``json_to_recordset`` (which parses the whole document once as the parameter, once to
    shred it and each payload a third time), and the driver 0.75 ms against 1.0.  Every value
    arrives in its column's binary form, checked by the column's own type as an ``INSERT``
    would (lengths, JSON).  Errors are raised as SQLAlchemy raises those of its statements,
    a lost connection thrown away as it would be, so a caller's rollback and retry (the upload's
    ``_retrying``) get a new one.
    """
    sql, types = _copy_statement(table, columns)
    connection = core(session)
    driver = connection.connection.driver_connection
    assert driver is not None
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as error:
        lost = connection.dialect.is_disconnect(error, driver, None)
        if lost:
            connection.invalidate(error)
        raise DBAPIError.instance(
            sql, None, error, psycopg.Error, connection_invalidated=lost, dialect=connection.dialect
        ) from error


@lru_cache(maxsize=8)
def _copy_statement(table: Table, columns: tuple[str, ...]) -> tuple[str, list[str]]:
    """The ``COPY`` and the binary form each column's values are sent in: the column's own
    (``json``'s is its text, so a JSON column takes the encoded document as a string)."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    sql = f"COPY {quote(table.name)} ({names}) FROM STDIN (FORMAT BINARY)"
    types = []
    for name in columns:
        declared = table.c[name].type.compile(dialect=dialect)
        types.append(_COPY_TYPES[declared.split("(")[0]])
    return sql, types


#: The driver's binary form of each column type ``copy_rows`` writes (a type missing here
#: fails the first ``COPY`` of its table, in the tests, rather than be sent in a wrong form).
_COPY_TYPES: Final = {
    "INTEGER": "int4",
    "BIGINT": "int8",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "VARCHAR": "text",
    "TEXT": "text",
    "JSON": "text",
}


def json_rows(rows: Sequence[dict[str, Any]]) -> str:
    """Rows as the one ``json`` parameter PostgreSQL shreds (``recordset_columns``)."""
    return orjson.dumps(list(rows), default=_json_default).decode()


def recordset_columns(
    table: Table, names: Sequence[str], fields: Sequence[str] | None = None
) -> str:
    """The column definitions of ``json_to_recordset(...) AS r(...)`` for ``names`` of
    ``table``, for statements written as SQL text; each with its column's own type, under the
    JSON's own ``fields`` names where they differ from the columns'."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return ", ".join(
        f"{field} {table.c[name].type.compile(dialect=dialect)}"
        for field, name in zip(fields or names, names, strict=True)
    )


def _driver_values(values: Iterable[Any], processors: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row's values as the driver takes them: each through its column's conversion."""
    return tuple(p(v) if p else v for v, p in zip(values, processors, strict=True))


@lru_cache(maxsize=32)
def _processors(table: Table, columns: tuple[str, ...], dialect: Any) -> tuple[Any, ...]:
    """Each column's conversion of a prepared row's value (``prepare_rows``): none for a JSON
    column, whose value is already encoded."""
    types = [table.c[name].type for name in columns]
    return tuple(None if isinstance(t, JSON) else _processor(t, dialect) for t in types)


@lru_cache(maxsize=32)
def _plain_insert_sql(table: Table, columns: tuple[str, ...], dialect: Any) -> str:
    """``insert into table (columns) values (?, ...)``: names from the schema, quoted."""
    quote = dialect.identifier_preparer.quote
    target = f"{dialect.identifier_preparer.format_table(table)} ({', '.join(map(quote, columns))})"
    return f"INSERT INTO {target} VALUES ({', '.join('?' * len(columns))})"  # noqa: S608


@lru_cache(maxsize=128)
def _sqlite_form(
    statement: Any, dialect: Any, columns: tuple[str, ...]
) -> tuple[str, tuple[str, ...], tuple[Any, ...], tuple[Any, ...]] | None:
    """The statement's SQL for SQLite, the rows' values in parameter order with each one's
    conversion (the columns' own bind processors), then the statement's own constants (an
    upsert's); None when SQLAlchemy would add values of its own (column defaults).

    ``executemany`` through SQLAlchemy spent more time arranging every value of every row than
    SQLite spent storing them; this runs the same conversions in one loop.
    """
    compiled = statement.compile(dialect=dialect, column_keys=list(columns))
    names = tuple(compiled.positiontup)
    order, rest = names[: len(columns)], names[len(columns) :]
    if set(order) != set(columns) or any(name in columns for name in rest):
        return None
    binds = compiled.binds
    if any(binds[name].callable or binds[name].required for name in rest):
        return None
    processors = tuple(_processor(binds[name].type, dialect) for name in order)
    constants = []
    for name in rest:
        process = _processor(binds[name].type, dialect)
        constants.append(process(binds[name].value) if process else binds[name].value)
    return str(compiled), order, processors, tuple(constants)


def _processor(type_: Any, dialect: Any) -> Any:
    """The conversion SQLAlchemy itself applies to a value of ``type_`` for ``dialect``."""
    return type_.dialect_impl(dialect).bind_processor(dialect)


@lru_cache(maxsize=128)
def _insert_statement(
    postgres: bool,
    table: Table,
    columns: tuple[str, ...],
    conflict: tuple[str, ...],
    update: Callable[[Any], dict[str, Any]] | None,
    returning: tuple[str, ...],
) -> Any:
    if postgres:
        source = (
            func.json_to_recordset(cast(bindparam("rows", type_=Text), JSON))
            .table_valued(*(column(name, table.c[name].type) for name in columns))
            .render_derived(name="r", with_types=True)
        )
        statement: Any = backend_insert(postgres, table).from_select(
            list(columns), select(*(source.c[name] for name in columns))
        )
    else:
        statement = backend_insert(postgres, table)
    if conflict:
        keys = [table.c[name] for name in conflict]
        statement = (
            statement.on_conflict_do_update(index_elements=keys, set_=update(statement.excluded))
            if update is not None
            else statement.on_conflict_do_nothing(index_elements=keys)
        )
    if returning and postgres:
        statement = statement.returning(*(table.c[n] for n in returning))
    return statement


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"cannot send {type(value).__name__} as JSON")

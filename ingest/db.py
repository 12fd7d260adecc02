"""The database handle: one engine per application, one session per request or command.

Plain SQLAlchemy rather than Flask-SQLAlchemy: the domain functions take a ``Session`` and
nothing from Flask, so they run the same in a view, a CLI command, a job or a unit test. The web
layer reaches the request's session through ``db_session()`` here, never through the app factory,
so no blueprint imports ``ingest.app``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that is closed (and rolled back if uncommitted) at the end of the block."""
        with self.sessions() as session:
            yield session

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


def make_engine(url: str, **options: Any) -> Engine:
    """An engine with the settings each backend needs to behave under concurrent writers."""
    options.setdefault("json_serializer", dump_json)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No pre-ping: it is a round trip per request.  A connection the server dropped fails its
    # request (503 to an agent, which retries) and SQLAlchemy then renews the whole pool.
    return create_engine(url, **options)


def dump_json(value: Any) -> str:
    """JSON columns are written by orjson: every reading's payload goes through here, and the
    standard library's encoder was a tenth of an upload's time on SQLite."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets the portal read while a batch is written; foreign keys are off by default.

    A 128 MiB page cache per connection (the default is 2 MiB): with millions of readings
    stored, uploads touch index pages all over the history tables, which the small cache read
    again and again (with 2 M readings: 7,300 to 8,200 readings/s).  Memory is taken only as
    pages are read.  ``synchronous`` stays FULL, as a 2xx must mean stored."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-131072")
    cursor.close()


# -- the web layer's handle (Flask tutorial style: ``init_app`` + one session per request) --

_EXTENSION = "scm.db"


def init_app(app: Flask, url: str) -> Database:
    """Attach a database to ``app`` and close each request's session when the request ends."""
    database = Database(url)
    app.extensions[_EXTENSION] = database
    app.teardown_appcontext(_close_session)
    return database


def database(app: Flask | None = None) -> Database:
    """The application's database handle (the current application's by default)."""
    found: Database = (app or current_app).extensions[_EXTENSION]
    return found


def db_session() -> Session:
    """The current request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = database().sessions()
    session: Session = g.db_session
    return session


def rollback_request_session() -> None:
    """Undo what the current request wrote so far (an error page is about to be shown)."""
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def _close_session(_error: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()

"""The database handle: one engine per application, one session per request or command.

Plain SQLAlchemy rather than Flask-SQLAlchemy: the domain functions take a ``Session`` and
nothing from Flask, so they run the same in a view, a CLI command, a job or a unit test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **options)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets the portal read while a batch is written; foreign keys are off by default."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()

"""The test database: SQLite by default, PostgreSQL when ``SCM_TEST_DATABASE_URL`` names one.

The schema is built once per session through the real Alembic migrations (so every test also
exercises them); each test starts from empty tables, emptied with DELETE rather than TRUNCATE so
a server subprocess holding idle pooled connections never blocks the clean-up.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ingest.migrate import upgrade
from ingest.models import Base

ENV_TEST_DATABASE_URL = "SCM_TEST_DATABASE_URL"


def test_database_url(tmp_dir: Path) -> str:
    """The URL the ingest tests run against: under pytest-xdist, each worker's own database
    (the named one with the worker's id appended, created here) so workers never share rows."""
    url = os.environ.get(ENV_TEST_DATABASE_URL)
    if not url:
        return f"sqlite:///{tmp_dir / 'ingest-test.sqlite'}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return fresh_database(url, f"{make_url(url).database}_{worker}") if worker else url


def drop_worker_database(url: str) -> None:
    """Drop a database ``test_database_url`` made for an xdist worker (none otherwise)."""
    named = os.environ.get(ENV_TEST_DATABASE_URL)
    if named and os.environ.get("PYTEST_XDIST_WORKER") and url != named:
        drop_database(url)


def fresh_database(url: str, name: str) -> str:
    """PostgreSQL: ``url`` naming database ``name`` on the same server, dropped if a previous
    run left it and made anew (empty)."""
    server = make_url(url).set(database=name)
    rendered = server.render_as_string(hide_password=False)
    drop_database(rendered)
    _admin(rendered, f'CREATE DATABASE "{name}"')
    return rendered


def drop_database(url: str) -> None:
    """PostgreSQL: drop the database ``url`` names, whoever is still connected to it."""
    _admin(url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def _admin(url: str, statement: str) -> None:
    """Run ``statement`` on the server's ``postgres`` database, outside a transaction."""
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(statement))
    admin.dispose()


def is_postgres(url: str) -> bool:
    """True for a PostgreSQL URL."""
    return url.startswith("postgresql")


def build_schema(url: str) -> None:
    """Drop whatever a previous run left, then migrate from nothing to head."""
    engine = create_engine(url)
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    upgrade(url)


def empty_tables(url: str) -> None:
    """Delete every row, children first."""
    engine = create_engine(url)
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()

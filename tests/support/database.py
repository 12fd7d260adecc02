"""The test database: SQLite by default, PostgreSQL when ``SCM_TEST_DATABASE_URL`` names one.

The schema is built once per session through the real Alembic migrations (so every test also
exercises them); each test starts from empty tables, emptied with DELETE rather than TRUNCATE so
a server subprocess holding idle pooled connections never blocks the clean-up.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, text

from ingest.migrate import upgrade
from ingest.models import Base

ENV_TEST_DATABASE_URL = "SCM_TEST_DATABASE_URL"


def test_database_url(tmp_dir: Path) -> str:
    """The URL the ingest tests run against."""
    return os.environ.get(ENV_TEST_DATABASE_URL) or f"sqlite:///{tmp_dir / 'ingest-test.sqlite'}"


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

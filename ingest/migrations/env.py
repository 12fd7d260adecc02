"""Alembic environment: online migrations against the URL given by ``ingest.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, pool

from ingest.db import make_engine
from ingest.history import include_object
from ingest.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Migrate over one connection; SQLite needs batch mode to alter tables."""
    url = config.get_main_option("sqlalchemy.url") or ""
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = make_engine(url, poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _run(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        # Batch mode rebuilds a table to alter it; SQLite refuses to drop a referenced table
        # while foreign keys are enforced (the pragma is read outside a transaction only).
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()

"""What every ``scm-ingest`` command module shares: a session whose errors read as CLI errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from ingest.config import load_settings
from ingest.db import Database
from ingest.domain.errors import DomainError


@contextmanager
def cli_session() -> Iterator[Session]:
    """A session on the configured database, committed at the end of the block.

    A ``DomainError`` becomes a one-line ``click`` error (exit 1), never a traceback.
    """
    database = Database(load_settings().database_url)
    try:
        with database.session() as session:
            yield session
            session.commit()
    except DomainError as err:
        raise click.ClickException(err.message) from err
    finally:
        database.dispose()

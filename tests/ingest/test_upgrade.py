"""Upgrading a filled database of the previous release keeps every row and every invoice total.

The database is filled through the service itself (uploads, reorders and orders, a billing run),
taken back to the previous release's schema (revision 0004: every later table and column
dropped), then upgraded with ``scm-ingest db upgrade``; the latest state is rebuilt from history.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from support.database import build_schema, drop_database, fresh_database, is_postgres
from support.fleet import add_consumable, add_machine, push, utc
from support.ingest import enroll_agent, issue_token

from ingest.app import create_app
from ingest.cli import main
from ingest.config import Settings
from ingest.db import database
from ingest.domain.bulk import serial_sequence
from ingest.domain.invoicing import commit_run, month_period
from ingest.history import is_partitioned
from ingest.migrate import alembic_config
from ingest.models import Base, Device, DeviceReading, Invoice, Machine, SupplyState

PREVIOUS_RELEASE = "0004"  # the schema of the last release in production


@pytest.fixture
def upgrade_url(migrated_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of its own (it is taken back a revision), built at head."""
    if not is_postgres(migrated_url):
        url = f"sqlite:///{tmp_path / 'upgrade.sqlite'}"
        build_schema(url)
        yield url
        return
    url = fresh_database(migrated_url, f"{make_url(migrated_url).database}_upgrade")
    build_schema(url)
    yield url
    drop_database(url)


def fill(url: str, tmp_path: Path) -> None:
    """Readings with supplies, meter reads, a reorder and its order, October's invoice."""
    settings = Settings(database_url=url, instance_path=tmp_path, secret_key="u" * 40)
    app = create_app(settings, {"TESTING": True})
    client = app.test_client()
    agent = enroll_agent(client, issue_token(app))
    add_machine(app)
    add_consumable(app, "TN-UP")
    start = utc(2026, 10, 1, 9)
    for day, level in enumerate((60, 40, 20, 9, 97)):
        push(client, agent, start + timedelta(days=day * 7), 1000 + 500 * day, black=level)
    push(client, agent, utc(2026, 11, 2, 9), 4000, black=90, serial="OTHER-1")
    with database(app).session() as db:
        assert commit_run(db, month_period("2026-10"), issued_on=date(2026, 11, 3))
        db.commit()
    database(app).dispose()


def snapshot(url: str) -> tuple[dict[str, int], list[tuple[str, str, str]]]:
    """Rows per table of the previous release, and every invoice's totals."""
    engine = create_engine(url)
    with engine.connect() as connection:
        present = set(inspect(connection).get_table_names())
        tables = [t for t in Base.metadata.sorted_tables if t.name in present]
        counts = {t.name: connection.scalar(select(func.count()).select_from(t)) for t in tables}
        totals = [
            (number, str(net), str(gross))
            for number, net, gross in connection.execute(
                text("SELECT number, net, gross FROM invoices ORDER BY number")
            )
        ]
    engine.dispose()
    return counts, totals


def test_upgrade_keeps_every_row_and_invoice_total(upgrade_url, tmp_path, monkeypatch):
    fill(upgrade_url, tmp_path)
    command.downgrade(alembic_config(upgrade_url), PREVIOUS_RELEASE)
    counts, totals = snapshot(upgrade_url)
    assert counts["device_readings"] == 6 and counts["supply_levels"] == 6
    assert counts["orders"] == 1 and len(totals) == 1

    monkeypatch.setenv("SCM_DATABASE_URL", upgrade_url)
    monkeypatch.setenv("SCM_INSTANCE_PATH", str(tmp_path))
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output

    after, after_totals = snapshot(upgrade_url)
    assert {name: after[name] for name in counts} == counts  # every table of 0004 kept its rows
    assert after_totals == totals
    engine = create_engine(upgrade_url)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Invoice)) == 1
        devices = connection.execute(select(Device.id, Device.latest_reading_id)).all()
        assert all(latest is not None for _, latest in devices) and len(devices) == 2
        [state] = connection.execute(
            select(SupplyState.percent, SupplyState.n)
            .join(Device)
            .where(Device.serial == "SN-0001")
        ).all()
        assert tuple(state) == (97, 1)  # the change to a full cartridge restarted the sums
        assert connection.scalar(select(Machine.serial_key)) == "SN-0001"
        if is_postgres(upgrade_url):  # history by month; every row moved into a partition
            assert is_partitioned(connection, "device_readings")
            assert is_partitioned(connection, "supply_levels")
            # The upload path names the readings' id sequence (bulk.reserved_ids).
            sequence = text("SELECT pg_get_serial_sequence('device_readings', 'id')")
            assert (
                connection.scalar(sequence) == f"public.{serial_sequence(DeviceReading.__table__)}"
            )
    engine.dispose()

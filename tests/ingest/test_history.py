"""History upkeep: partitions created ahead (PostgreSQL), raw readings summarised per day and
dropped after the retention period, everything else kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text
from support.ingest import reading

from ingest.db import database
from ingest.domain.intake import store_batch
from ingest.history import ensure_partitions, is_partitioned, month_start, partition_name
from ingest.jobs.maintenance import create_partitions, expire_history
from ingest.jobs.queue import job_queue
from ingest.models import Agent, DeviceDaily, DeviceReading, SupplyLevel
from shared.batch import decode_batch

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def store(app, agent, when: datetime, total: int) -> None:
    _, body = agent.batch(reading(total=total, observed_at=when))
    with database(app).session() as db:
        owner = db.scalar(select(Agent))
        stored = store_batch(db, owner, decode_batch(body), digest=f"sha-256=:{total}:",
                             signature="s", received_at=when)  # fmt: skip
    job_queue(app).dispatch(stored.jobs)  # as the upload route does: supply levels and the rest


def test_old_readings_become_daily_summaries_recent_ones_stay(app, agent, session):
    old_day = NOW - timedelta(days=800)
    with database(app).session() as db:  # an old month with its own partition (PostgreSQL)
        ensure_partitions(db.connection(), NOW, first=old_day.date())
        db.commit()
    store(app, agent, old_day, 1000)
    store(app, agent, old_day + timedelta(hours=3), 1040)
    store(app, agent, NOW - timedelta(days=2), 9000)
    expire_history(session, {}, NOW)
    session.commit()
    assert [r.total for r in session.scalars(select(DeviceReading))] == [9000]
    assert session.scalar(select(func.count()).select_from(SupplyLevel)) == 1
    [day] = session.scalars(select(DeviceDaily))
    assert (day.day, day.readings, day.total_first, day.total_last) == (
        old_day.date(),
        2,
        1000,
        1040,
    )
    expire_history(session, {}, NOW)  # again: nothing more to do, the summary is kept
    session.commit()
    assert session.scalar(select(func.count()).select_from(DeviceDaily)) == 1
    connection = session.connection()
    if is_partitioned(connection, "device_readings"):
        name = partition_name("device_readings", month_start(old_day.date()))
        assert connection.scalar(text("SELECT to_regclass(:n)"), {"n": name}) is None


def test_partitions_are_created_ahead(session):
    create_partitions(session, {}, NOW)
    session.commit()
    connection = session.connection()
    if not is_partitioned(connection, "device_readings"):
        return  # SQLite: one table, nothing to create
    for shift in range(4):
        for table in ("device_readings", "supply_levels"):
            name = partition_name(table, month_start(NOW.date(), shift))
            assert connection.scalar(text("SELECT to_regclass(:n)"), {"n": name}) is not None

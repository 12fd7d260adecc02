"""Scheduled upkeep of the history: partitions created ahead, raw readings summarised and
dropped after ``history.RAW_MONTHS`` (both idempotent: a second run finds nothing to do)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import Connection, delete, func, select, text
from sqlalchemy.orm import Session

from ingest.domain.bulk import insert_rows
from ingest.history import (
    PARTITIONED,
    RAW_MONTHS,
    ensure_partitions,
    is_partitioned,
    month_start,
    partition_name,
)
from ingest.jobs.registry import job
from ingest.models import DeviceDaily, DeviceReading, MeterRead, SupplyLevel

PARTITIONS_JOB: Final = "history_partitions"
RETENTION_JOB: Final = "history_retention"


@job(PARTITIONS_JOB, every=timedelta(hours=1))
def create_partitions(session: Session, args: dict[str, Any], now: datetime) -> None:
    """This month's and the next ``MONTHS_AHEAD`` months' partitions (PostgreSQL)."""
    ensure_partitions(session.connection(), now)


@job(RETENTION_JOB, every=timedelta(days=1))
def expire_history(session: Session, args: dict[str, Any], now: datetime) -> None:
    """Summarise, then drop, raw readings older than ``months`` (default ``RAW_MONTHS``)."""
    first_kept = month_start(now.date(), -int(args.get("months", RAW_MONTHS)))
    cutoff = datetime.combine(first_kept, time(), tzinfo=UTC)
    summarise_days(session, cutoff)
    connection = session.connection()
    if all(is_partitioned(connection, table) for table in PARTITIONED):
        _drop_old_partitions(connection, first_kept)
    # Rows older than the cutoff outside a month partition (SQLite, the default partition).
    # A reading a meter read comes from stays on SQLite, whose foreign keys hold.
    keep = select(MeterRead.device_reading_id).where(MeterRead.device_reading_id.is_not(None))
    old = DeviceReading.observed_at < cutoff
    if connection.dialect.name == "sqlite":
        old = old & DeviceReading.id.not_in(keep)
    doomed = select(DeviceReading.id).where(old)
    session.execute(
        delete(SupplyLevel).where(
            SupplyLevel.observed_at < cutoff, SupplyLevel.reading_id.in_(doomed)
        )
    )
    session.execute(delete(DeviceReading).where(old))


def summarise_days(session: Session, before: Any) -> None:
    """One ``device_daily`` row per device and day before ``before`` (existing days kept)."""
    day = func.date(DeviceReading.observed_at)
    rows = session.execute(
        select(
            DeviceReading.device_id,
            day,
            func.count(),
            func.min(DeviceReading.observed_at),
            func.max(DeviceReading.observed_at),
            func.min(DeviceReading.total),
            func.max(DeviceReading.total),
            func.max(DeviceReading.mono),
            func.max(DeviceReading.colour),
        )
        .where(DeviceReading.observed_at < before, DeviceReading.flag.is_(None))
        .group_by(DeviceReading.device_id, day)
    ).all()
    insert_rows(
        session,
        DeviceDaily.__table__,
        [
            {
                "device_id": device_id,
                "day": on if not isinstance(on, str) else datetime.fromisoformat(on).date(),
                "readings": count,
                "first_at": first,
                "last_at": last,
                "total_first": total_first,
                "total_last": total_last,
                "mono_last": mono,
                "colour_last": colour,
            }
            for device_id, on, count, first, last, total_first, total_last, mono, colour in rows
        ],
        conflict=("device_id", "day"),
    )


def _drop_old_partitions(connection: Connection, first_kept: date) -> None:
    for table in PARTITIONED:
        names = connection.scalars(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = CAST(:t AS regclass)"
            ),
            {"t": table},
        ).all()
        for name in names:
            suffix = name.removeprefix(f"{table}_p")
            if suffix.isdigit() and len(suffix) == 6:
                month = month_start(datetime.strptime(suffix, "%Y%m").date())
                if month_start(month, 1) <= first_kept and name == partition_name(table, month):
                    connection.execute(text(f"DROP TABLE {name}"))

"""ingest speed: supply levels lose their (device_id, observed_at) index

Every upload inserted each supply level into that index at its device's place: a hundred
devices a batch, a hundred index pages scattered over the history, each written again to the
write-ahead log (on SQLite with 2 M readings stored, most of the writer's turn).  Its one
reader, a machine's supply chart, now finds its readings through
``ix_device_readings_device_observed`` and their levels through
``ix_supply_levels_reading_id``.

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_supply_levels_device_observed", table_name="supply_levels")


def downgrade() -> None:
    op.create_index(
        "ix_supply_levels_device_observed", "supply_levels", ["device_id", "observed_at"]
    )

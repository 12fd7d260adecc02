"""devices: drop the index on customer_id alone (the unique (customer_id, identity) covers it)

With both indexes, a batch's device lookup (``customer_id = $1 and identity = any($2)``) could be
planned on the customer index and test every key against every device of the customer (40 ms a
batch at 3,500 devices); with only the unique index every key is one probe.

Revision ID: 0011
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devices_customer_id"))


def downgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_devices_customer_id"), ["customer_id"], unique=False)

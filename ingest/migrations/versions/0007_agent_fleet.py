"""agent refusals, signed agent releases and their staged rollout

Revision ID: 0007
Revises: 0010
Create Date: 2026-11-28 08:22:20.528016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ingest.models.base

revision = "0007"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "agent_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=100), nullable=False),
        sa.Column("added_at", ingest.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("everyone", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_releases")),
        sa.UniqueConstraint("version", name=op.f("uq_agent_releases_version")),
    )
    op.create_table(
        "release_rollouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("since", ingest.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_release_rollouts_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["agent_releases.id"],
            name=op.f("fk_release_rollouts_release_id_agent_releases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_rollouts")),
        sa.UniqueConstraint(
            "release_id", "customer_id", name=op.f("uq_release_rollouts_release_id_customer_id")
        ),
    )
    with op.batch_alter_table("release_rollouts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_release_rollouts_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_release_rollouts_release_id"), ["release_id"], unique=False
        )

    op.create_table(
        "agent_refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("first_at", ingest.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_at", ingest.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_agent_refusals_agent_id_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_refusals")),
        sa.UniqueConstraint("agent_id", name=op.f("uq_agent_refusals_agent_id")),
    )


def downgrade() -> None:

    op.drop_table("agent_refusals")
    with op.batch_alter_table("release_rollouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_release_rollouts_release_id"))
        batch_op.drop_index(batch_op.f("ix_release_rollouts_customer_id"))

    op.drop_table("release_rollouts")
    op.drop_table("agent_releases")

"""Provenance: ``journey_events``, the steps of each file's journey the store writes in its batches.

A new table (no foreign key: a failed file has no document row), one row per document and batch with
its steps as a JSON array (one row, not one per step: the rows cost the batch more than the bytes),
indexed by content hash, claim and time (the retention prune deletes by time).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# 64-bit keys on PostgreSQL; SQLite needs INTEGER PRIMARY KEY to alias its rowid (autoincrement).
KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journey_events",
        sa.Column("id", KEY, nullable=False),
        sa.Column("sha256", sa.CHAR(length=64), nullable=True),
        sa.Column("claim", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("steps", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_events")),
    )
    op.create_index(op.f("ix_journey_events_sha256"), "journey_events", ["sha256"], unique=False)
    op.create_index(op.f("ix_journey_events_claim"), "journey_events", ["claim"], unique=False)
    op.create_index(op.f("ix_journey_events_at"), "journey_events", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_journey_events_at"), table_name="journey_events")
    op.drop_index(op.f("ix_journey_events_claim"), table_name="journey_events")
    op.drop_index(op.f("ix_journey_events_sha256"), table_name="journey_events")
    op.drop_table("journey_events")

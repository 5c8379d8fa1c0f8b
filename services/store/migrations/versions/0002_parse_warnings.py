"""Parse warnings stored with the document: ``documents.parse_warnings`` (JSON text, NULL when none).

A nullable column added in place: documents stored before it simply have none.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("parse_warnings", sa.Text(), nullable=True))


def downgrade() -> None:
    # In place (SQLite >= 3.35 too): a batch copy of `documents` would drop the table, and with foreign
    # keys on, that would delete every article and mention with it.
    op.execute("ALTER TABLE documents DROP COLUMN parse_warnings")

"""A leaner story index: ``story_keys`` without foreign keys and without its ``article_id`` index.

Every new story writes about thirteen index keys, and each key's two foreign-key checks (a share lock
on its story's row and on its article's row) doubled the cost of inserting it (measured, see
BENCHMARKS.md). They guarded nothing the code needs: stories are never deleted, articles only with
their document (a key whose article is gone still names its story; that article is just not
compared). The ``article_id`` index served only the cascade; ``story_id`` keeps its index (a merge moves
a story's keys by it). SQLite drops foreign keys by copying the table: ``story_keys`` is referenced by
no other table, so the copy touches nothing else.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_FOREIGN_KEYS = (
    ("fk_story_keys_article_id_articles", "articles", "article_id"),
    ("fk_story_keys_story_id_stories", "stories", "story_id"),
)


def upgrade() -> None:
    op.drop_index("ix_story_keys_article_id", table_name="story_keys")
    with op.batch_alter_table("story_keys") as batch:
        for name, _, _ in _FOREIGN_KEYS:
            batch.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("story_keys") as batch:
        for name, referred, column in _FOREIGN_KEYS:
            batch.create_foreign_key(name, referred, [column], ["id"], ondelete="CASCADE")
    op.create_index("ix_story_keys_article_id", "story_keys", ["article_id"], unique=False)

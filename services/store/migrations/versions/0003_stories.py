"""Stories: one wire item and its versions, however many pages carry it.

Adds ``stories``, the story index ``story_keys``, and ``articles.story_id``, ``story_version`` and
``headline_version``. Existing articles keep ``story_id`` NULL: ``dropwire stories rebuild`` assigns
them (idempotent, resumable), through the same matching code the store runs on every batch. The
migration itself does not import that code, so it stays what it was when written.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# 64-bit keys on PostgreSQL; SQLite needs INTEGER PRIMARY KEY to alias its rowid (autoincrement).
KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stories',
    sa.Column('id', KEY, nullable=False),
    sa.Column('headline', sa.Text(), nullable=True),
    sa.Column('place', sa.Text(), nullable=True),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sightings', sa.Integer(), nullable=False),
    sa.Column('versions', sa.Integer(), nullable=False),
    sa.Column('fullest_article_id', KEY, nullable=True),
    sa.Column('fullest_chars', sa.Integer(), nullable=False),
    sa.Column('newest_article_id', KEY, nullable=True),
    sa.Column('newest_version', sa.Integer(), nullable=False),
    sa.Column('merged_into', KEY, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stories'))
    )
    op.create_index(op.f('ix_stories_last_seen'), 'stories', ['last_seen'], unique=False)
    # Plain columns, no foreign key on story_id (see models.ArticleRow): SQLite adds them in place.
    op.add_column('articles', sa.Column('headline_version', sa.Integer(), nullable=True))
    op.add_column('articles', sa.Column('story_id', KEY, nullable=True))
    op.add_column('articles', sa.Column('story_version', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_articles_story_id'), 'articles', ['story_id'], unique=False)
    op.create_table('story_keys',
    sa.Column('key', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('story_id', KEY, nullable=False),
    sa.Column('article_id', KEY, nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_story_keys_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['story_id'], ['stories.id'], name=op.f('fk_story_keys_story_id_stories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_story_keys'))
    )
    op.create_index(op.f('ix_story_keys_article_id'), 'story_keys', ['article_id'], unique=False)
    op.create_index(op.f('ix_story_keys_story_id'), 'story_keys', ['story_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_story_keys_story_id'), table_name='story_keys')
    op.drop_index(op.f('ix_story_keys_article_id'), table_name='story_keys')
    op.drop_table('story_keys')
    op.drop_index(op.f('ix_articles_story_id'), table_name='articles')
    # Plain columns are dropped in place (SQLite >= 3.35 too): a batch copy of `articles` would drop
    # the table, and with foreign keys on, that would delete every mention with it.
    for column in ('story_version', 'story_id', 'headline_version'):
        op.execute(f'ALTER TABLE articles DROP COLUMN {column}')
    op.drop_index(op.f('ix_stories_last_seen'), table_name='stories')
    op.drop_table('stories')

"""The lean story index of migration 0006 (no foreign keys on ``story_keys``) and PostgreSQL's fast
story writes: a database filled under 0005 keeps its index and its stories through the upgrade (and
back), a key another writer indexed behind the story lock's back still runs the batch again, and story
figures with any text go through the array literals intact."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from dropwire.storyeval import corpus_pages, enriched, pairwise
from services.store import storydb
from services.store.db import alembic_config, make_engine, upgrade
from services.store.pgfast import text_array
from services.store.repository import Repository
from shared.messages import Article
from tests.integration.test_stories_postgres import grouping
from tests.unit.test_story_store import LEAD, REST, article, page

pytestmark = pytest.mark.integration

START = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
FOREIGN_KEYS = {"fk_story_keys_article_id_articles", "fk_story_keys_story_id_stories"}


@pytest.fixture(params=["postgresql", "sqlite"])
def any_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("pg_url" if request.param == "postgresql" else "sqlite_url"))


def index_shape(url: str) -> tuple[set[str], set[str], int]:
    """``story_keys``' foreign key names, index names and row count."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            fks = {fk["name"] for fk in inspector.get_foreign_keys("story_keys")}
            indexes = {ix["name"] for ix in inspector.get_indexes("story_keys")}
            count = conn.execute(sa.text("SELECT count(*) FROM story_keys")).scalar_one()
        return fks, indexes, int(count)
    finally:
        engine.dispose()


def migrate(url: str, revision: str, *, down: bool = False) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            config = alembic_config(url)
            config.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(config, revision)
            conn.commit()
    finally:
        engine.dispose()


def test_a_database_filled_under_0005_keeps_its_index_and_stories(any_url: str) -> None:
    """Stories and keys written under 0005 (foreign keys on) survive 0006 unchanged; pages stored after
    it join the stories stored before (repeats, briefs and versions found through the old keys), the
    grouping scores as the batch path does, and going back to 0005 restores the foreign keys."""
    pages = corpus_pages(80, seed=11)
    docs = [enriched(p, START + timedelta(seconds=i)) for i, p in enumerate(pages)]
    first, second = docs[:40], docs[40:]
    upgrade(any_url, "0005")
    engine = make_engine(any_url)
    Repository(engine).store(first)
    engine.dispose()
    fks, indexes, keys_before = index_shape(any_url)
    assert fks == FOREIGN_KEYS and "ix_story_keys_article_id" in indexes and keys_before > 100
    before = grouping(any_url)

    upgrade(any_url)
    fks, indexes, keys_after = index_shape(any_url)
    assert fks == set() and indexes == {"ix_story_keys_story_id"} and keys_after == keys_before
    assert grouping(any_url) == before

    engine = make_engine(any_url)
    repo = Repository(engine)
    repo.store(second)
    repo.store(first[:10])  # redelivered: nothing new
    engine.dispose()
    stored = grouping(any_url)
    assert {k: stored[k] for k in before} == before  # stable ids
    truth = {
        (d.doc_id, a.seq): item
        for p, d in zip(pages, docs, strict=True)
        for a, item in zip(d.articles, p.items, strict=True)
    }
    keys = sorted(truth)
    scores = pairwise([truth[k] for k in keys], [stored[k] for k in keys])
    assert scores.precision >= 0.99 and scores.recall >= 0.99, scores.as_dict()
    # Items that span both halves were found through keys written under 0005.
    old_items = {truth[k] for k in before}
    assert any(truth[k] in old_items for k in stored if k not in before)

    keys_final = index_shape(any_url)[2]
    assert keys_final > keys_after
    migrate(any_url, "0005", down=True)
    fks, indexes, count = index_shape(any_url)
    assert fks == FOREIGN_KEYS and "ix_story_keys_article_id" in indexes and count == keys_final
    assert grouping(any_url) == stored


@pytest.fixture
def pg_repo(pg_url: str) -> Iterator[Repository]:
    upgrade(pg_url)
    engine = make_engine(pg_url)
    yield Repository(engine)
    engine.dispose()


def test_a_key_indexed_behind_the_locks_back_runs_the_batch_again(
    pg_repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL writes keys by COPY, which has no ON CONFLICT: a key that another writer (one not
    taking the story lock) committed after this batch looked it up makes the whole batch roll back and
    run again (``StoryRace``); the second run sees the key, leaves it to its owner and commits."""
    rival_doc = page("rival", article(0, LEAD + "\n" + REST, role="main", headline="Grote brand in Zwolle"))
    pg_repo.store([rival_doc])
    with pg_repo.engine.connect() as conn:
        rival_story, rival_article = conn.execute(sa.text("SELECT story_id, id FROM articles")).one()
    doc = page("new", article(0, "Een heel ander bericht over de gemeenteraad van Zwolle en de begroting."))

    runs: list[int] = []
    injected: list[int] = []
    original = storydb.StoryIndex.plan

    def plan_then_rival_writes(self: storydb.StoryIndex, conn: Any, batch: Any) -> storydb.Plan:
        plan = original(self, conn, batch)
        runs.append(len(plan.keys))
        if len(runs) == 1:  # another writer indexes one of this batch's new keys, and commits
            injected.append(plan.keys[0][0])
            with pg_repo.engine.begin() as other:
                other.execute(
                    sa.text("INSERT INTO story_keys (key, story_id, article_id) VALUES (:k, :s, :a)"),
                    {"k": injected[0], "s": rival_story, "a": rival_article},
                )
        return plan

    monkeypatch.setattr(storydb.StoryIndex, "plan", plan_then_rival_writes)
    result = pg_repo.write([doc])
    assert [d.outcome for d in result.done] == ["stored"]
    assert len(runs) == 2 and runs[1] == runs[0] - 1  # the second run leaves the taken key alone
    with pg_repo.engine.connect() as conn:
        owners = dict(conn.execute(sa.text("SELECT key, story_id FROM story_keys")).all())
        new_story = conn.execute(
            sa.text(
                "SELECT a.story_id FROM articles a JOIN documents d ON d.id = a.document_id WHERE d.name = 'new'"
            )
        ).scalar_one()
    assert new_story != rival_story and owners[injected[0]] == rival_story
    assert sum(1 for s in owners.values() if s == new_story) == runs[1]


def test_story_figures_keep_any_text(pg_repo: Repository) -> None:
    """Headlines and places travel to PostgreSQL as array literals: quotes, backslashes, commas, braces,
    the word NULL and no place at all come back as written."""
    headline = 'Kop met "aanhalingstekens", {accolades}, \\ en NULL'
    doc = page(
        "tekst",
        article(0, LEAD + "\n" + REST, role="main", headline=headline),
        Article(
            seq=1,
            role="brief",
            body="Zonder plaats: een bericht over de begroting van de gemeente, acht woorden of meer.",
        ),
    )
    pg_repo.store([doc])
    with pg_repo.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT headline, place, sightings FROM stories ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(headline, "Zwolle", 1), (None, None, 1)]


def test_text_array_literal() -> None:
    assert text_array(["a", None, 'b"c', "d\\e", "NULL", ""]) == '{"a",NULL,"b\\"c","d\\\\e","NULL",""}'

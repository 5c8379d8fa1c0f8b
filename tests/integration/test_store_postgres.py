"""The repository's cases (``tests/unit/test_repository_sqlite.py``) again, on the real PostgreSQL,
plus what only PostgreSQL shows: time zones kept by ``timestamptz`` and large batches."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from services.store.db import make_engine
from services.store.repository import Repository
from tests.unit.test_repository_sqlite import *  # noqa: F403 - the same cases, re-bound to PostgreSQL below
from tests.unit.test_repository_sqlite import make_doc, sha

pytestmark = pytest.mark.integration


@pytest.fixture
def db_url(pg_url: str) -> str:
    """Every imported case runs against a fresh PostgreSQL database of its own."""
    return pg_url


def test_postgres_stores_times_as_timestamptz(repo: Repository) -> None:
    """On PostgreSQL the columns are timestamptz, so times come back aware and equal to what was sent."""
    repo.store([make_doc("a")])
    with repo.engine.connect() as conn:
        kind = conn.execute(
            sa.text(
                "SELECT data_type FROM information_schema.columns WHERE table_name='documents' AND column_name='received_at'"
            )
        ).scalar_one()
        received = conn.execute(
            sa.text("SELECT received_at FROM documents WHERE sha256=:s"), {"s": sha("a")}
        ).scalar_one()
    assert kind == "timestamp with time zone"
    assert received == make_doc("a").received_at


def test_a_large_batch_is_one_transaction(repo: Repository, db_url: str) -> None:
    """A batch of 200 documents lands whole, entities deduplicated across it."""
    done = repo.store([make_doc(f"bulk-{i}") for i in range(200)])
    assert {d.outcome for d in done} == {"stored"}
    counts = repo.counts()
    assert (counts.documents, counts.articles, counts.entities, counts.mentions) == (200, 400, 6, 1600)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(DISTINCT xmin::text) FROM documents")).scalar_one() == 1
    finally:
        engine.dispose()


def test_postgres_refuses_nul_characters_and_only_that_document_fails(repo: Repository) -> None:
    """PostgreSQL text cannot hold NUL: the handler fails that one document and stores its neighbours."""
    from services.store.handler import StoreHandler

    bad = make_doc("nul")
    bad = bad.model_copy(
        update={"articles": (bad.articles[0].model_copy(update={"body": "a\x00b", "entities": ()}),)}
    )
    out = StoreHandler(repo).handle([make_doc("a"), bad])
    assert [(d.claim, d.outcome, d.reason) for d in out] == [
        ("a.txt", "stored", None),
        ("nul.txt", "failed", "internal"),
    ]
    assert repo.counts().documents == 1

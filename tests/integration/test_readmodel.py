"""The console's read layer (``shared.readmodel``) on the real PostgreSQL and on SQLite: documents,
one document with its mentions, Dutch stemmed search kept current by the store's writes (and back-filled
by migration 0004), entities."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from services.store.db import make_engine, upgrade
from services.store.repository import Repository
from shared.messages import Article, DocumentEnriched
from shared.readmodel import Filters, ReadModel, open_engine
from tests.unit.test_repository_sqlite import make_doc, sha

pytestmark = pytest.mark.integration


@pytest.fixture(params=["postgresql", "sqlite"])
def db_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("pg_url" if request.param == "postgresql" else "sqlite_url"))


@pytest.fixture
def stored(db_url: str) -> Iterator[tuple[Repository, ReadModel]]:
    upgrade(db_url)
    writer = make_engine(db_url)
    reader = open_engine(db_url)
    yield Repository(writer), ReadModel(reader)
    writer.dispose()
    reader.dispose()


def strike_doc(key: str) -> DocumentEnriched:
    """A page whose only article speaks of "stakingen" (plural), never of "staking"."""
    doc = make_doc(key)
    article = Article(
        seq=0, role="main", headline="Spoor ligt stil", body="De stakingen bij de NS duren voort in Utrecht."
    )
    return doc.model_copy(update={"articles": (article,)})


def test_documents_newest_first_with_their_first_headline(stored: tuple[Repository, ReadModel]) -> None:
    """The document list shows the newest stored document first, with its first article's headline."""
    repo, read = stored
    repo.store([make_doc("a")])
    repo.store([strike_doc("b")])
    docs = read.documents()
    assert [(d.sha256, d.headline) for d in docs] == [
        (sha("b"), "Spoor ligt stil"),
        (sha("a"), "Schoof en Rutte overleggen"),
    ]
    assert docs[0].stored_at.tzinfo is not None
    assert [d.sha256 for d in read.documents(before=docs[0].id)] == [sha("a")]


def test_document_filters_narrow_by_place_entity_section_and_role(
    stored: tuple[Repository, ReadModel],
) -> None:
    """Place, entity, section and role filters keep only documents with a matching article."""
    repo, read = stored
    repo.store([make_doc("a"), strike_doc("b")])
    assert [d.sha256 for d in read.documents(Filters(place="den haag"))] == [sha("a")]
    assert [d.sha256 for d in read.documents(Filters(entity="mark rutte"))] == [sha("a")]
    assert [d.sha256 for d in read.documents(Filters(role="brief"))] == [sha("a")]
    assert read.documents(Filters(section="Sport")) == []
    assert read.documents(Filters(since=datetime(2100, 1, 1, tzinfo=UTC))) == []


def test_document_mentions_carry_the_stored_offsets(stored: tuple[Repository, ReadModel]) -> None:
    """Every mention of a document's article points at its surface text inside the stored body."""
    repo, read = stored
    repo.store([make_doc("a")])
    doc = read.document(sha("a"))
    assert doc is not None and [a.seq for a in doc.articles] == [0, 1]
    main = doc.articles[0]
    assert main.agencies == ["ANP", "RTR"] and main.place == "The Hague"
    assert [(m.label, m.name) for m in main.mentions][:2] == [("PER", "Dick Schoof"), ("LOC", "The Hague")]
    for article in doc.articles:
        for m in article.mentions:
            assert article.body[m.start : m.end] == m.surface
    assert read.document("0" * 64) is None


def test_search_finds_a_stemmed_form(stored: tuple[Repository, ReadModel]) -> None:
    """ "staking" finds the article that only says "stakingen"; a word found nowhere finds nothing."""
    repo, read = stored
    repo.store([make_doc("a"), strike_doc("b")])
    hits = read.search("staking")
    assert [(h.document_sha256, h.headline) for h in hits] == [(sha("b"), "Spoor ligt stil")]
    assert read.search("staking", Filters(place="Amsterdam")) == []
    assert read.search("tulpenbollen") == []
    assert read.search("  ;; ") == []


def test_search_ranks_headline_hits_first(stored: tuple[Repository, ReadModel]) -> None:
    """An article with the word in its headline ranks above one with it only in the body."""
    repo, read = stored
    repo.store([make_doc("a")])  # "Gladheid" is the brief's headline and in its body
    hits = read.search("gladheid")
    assert len(hits) == 1 and hits[0].rank > 0
    repo.store([strike_doc("b")])
    both = read.search("Rutte")
    assert len(both) == 2 and both[0].headline == "Schoof en Rutte overleggen"


def test_search_index_is_back_filled_by_the_migration(db_url: str) -> None:
    """Articles stored before migration 0004 are found once the database is upgraded to head."""
    upgrade(db_url, "0003")  # the revision before the search index (today's repository writes its columns)
    writer = make_engine(db_url)
    Repository(writer, provenance=False).store([strike_doc("old")])  # journey_events comes with 0005
    writer.dispose()
    upgrade(db_url)
    reader = open_engine(db_url)
    try:
        assert [h.document_sha256 for h in ReadModel(reader).search("staking")] == [sha("old")]
    finally:
        reader.dispose()


def test_postgres_search_uses_the_gin_index(pg_url: str) -> None:
    """On PostgreSQL the search query is answered from the GIN index of migration 0004."""
    upgrade(pg_url)
    engine = open_engine(pg_url)
    read = ReadModel(engine)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SET enable_seqscan = off"))
            statement = (
                "EXPLAIN SELECT id FROM articles WHERE search_vector "
                "@@ plainto_tsquery('dutch'::regconfig, 'staking')"
            )
            plan = "\n".join(r[0] for r in conn.execute(sa.text(statement)))
        assert "ix_articles_search" in plan
        assert read.search("staking") == []
    finally:
        engine.dispose()


def test_entities_and_an_entitys_articles(stored: tuple[Repository, ReadModel]) -> None:
    """Entities come most mentioned first; an entity's page lists the articles that mention it."""
    repo, read = stored
    repo.store([make_doc("a")])
    top = read.top_entities()
    assert (top[0].name, top[0].mentions, top[0].articles) == ("Dick Schoof", 2, 1)
    assert {e.label for e in read.top_entities(label="loc")} == {"LOC"}
    rutte = next(e for e in top if e.name == "Mark Rutte")
    detail = read.entity(rutte.id)
    assert detail is not None and sorted(a.seq for a in detail.articles) == [0, 1]
    assert read.entity(10**9) is None


def test_overview_counts_rates_and_failures(stored: tuple[Repository, ReadModel]) -> None:
    """Counts per table and documents per minute over the last minutes include what was just stored."""
    repo, read = stored
    repo.store([make_doc("a")])
    assert read.counts().documents == 1
    rate = read.documents_per_minute(10)
    assert len(rate) == 10 and sum(p.documents for p in rate) == 1
    assert read.recent_failures() == []

"""Stories on the real PostgreSQL: the store cases again, two store workers writing at once, and the
back-fill of a database filled by the schema before stories."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from dropwire.storyeval import corpus_pages, enriched, pairwise
from services.store.db import make_engine, upgrade
from services.store.repository import Repository
from tests.unit.test_story_store import *  # noqa: F403 - the same cases, re-bound to PostgreSQL below

pytestmark = pytest.mark.integration

START = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def db_url(pg_url: str) -> str:
    """Every imported case runs against a fresh PostgreSQL database of its own."""
    return pg_url


def grouping(url: str) -> dict[tuple[str, int], int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT d.sha256, a.seq, a.story_id FROM articles a JOIN documents d ON d.id = a.document_id"
            )
        ).all()
    engine.dispose()
    return {(sha, seq): story for sha, seq, story in rows}


def test_two_workers_at_once_split_no_story(pg_url: str) -> None:
    """Two store workers (own engines, own transactions) write interleaved batches of pages that share
    briefs, repeats and versions: the stories come out as the truth says, none split by a race."""
    pages = corpus_pages(240, seed=5)
    docs = [enriched(p, START + timedelta(seconds=i)) for i, p in enumerate(pages)]
    truth = {
        (d.doc_id, a.seq): item
        for p, d in zip(pages, docs, strict=True)
        for a, item in zip(d.articles, p.items, strict=True)
    }
    upgrade(pg_url)
    # Worker 0 takes the even batches, worker 1 the odd: both see the same items at the same time.
    batches = [docs[i : i + 6] for i in range(0, len(docs), 6)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    races: list[int] = []

    def worker(n: int) -> None:
        engine = make_engine(pg_url)
        repo = Repository(engine)
        try:
            barrier.wait()
            for batch in batches[n::2]:
                repo.store(batch)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == [] and not any(t.is_alive() for t in threads)
    stored = grouping(pg_url)
    assert set(stored) == set(truth) and None not in stored.values()
    keys = sorted(truth)
    scores = pairwise([truth[k] for k in keys], [stored[k] for k in keys])
    assert scores.precision >= 0.99 and scores.recall >= 0.99, (scores.as_dict(), races)
    # No split: every item's articles are in one story.
    stories_per_item: dict[str, set[int]] = defaultdict(set)
    for key, item in truth.items():
        stories_per_item[item].add(stored[key])
    split = {item: s for item, s in stories_per_item.items() if len(s) > 1}
    assert split == {}


@pytest.fixture(params=["postgresql", "sqlite"])
def any_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("pg_url" if request.param == "postgresql" else "sqlite_url"))


def test_a_database_of_the_old_schema_is_back_filled(any_url: str) -> None:
    """Rows written under revision 0001 (no stories) get their stories from `rebuild` after the upgrade:
    the same grouping the batch path gives, resumable after an interruption, idempotent after."""
    pages = corpus_pages(60, seed=9)
    docs = [enriched(p, START + timedelta(seconds=i)) for i, p in enumerate(pages)]
    upgrade(any_url, "0001")
    engine = make_engine(any_url)
    with engine.begin() as conn:  # the old schema's writer, by hand: documents and articles only
        for d in docs:
            doc_id = conn.execute(
                sa.text(
                    "INSERT INTO documents (sha256, name, size, encoding, section, article_count, mtime, "
                    "received_at, stored_at, parser_version, model_version) VALUES (:s, :n, 1, 'utf-8', NULL, "
                    ":c, :t, :t, :t, 'old', 'old') ON CONFLICT (sha256) DO NOTHING RETURNING id"
                ),
                {"s": d.doc_id, "n": d.name, "c": len(d.articles), "t": d.received_at},
            ).scalar()
            if doc_id is None:
                continue
            for a in d.articles:
                conn.execute(
                    sa.text(
                        "INSERT INTO articles (document_id, seq, role, headline, preamble, place_raw, place, body) "
                        "VALUES (:d, :q, :r, :h, :p, :pr, :pl, :b)"
                    ),
                    {
                        "d": doc_id,
                        "q": a.seq,
                        "r": a.role,
                        "h": a.headline,
                        "p": a.preamble,
                        "pr": a.dateline.place if a.dateline else None,
                        "pl": a.dateline.resolved.name if a.dateline and a.dateline.resolved else None,
                        "b": a.body,
                    },
                )
    engine.dispose()
    upgrade(any_url)
    engine = make_engine(any_url)
    repo = Repository(engine)
    total = repo.unassigned_articles()
    assert total > 100

    class Interrupted(Exception):
        pass

    def stop_after_first(progress: object) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        repo.rebuild_stories(chunk=40, progress=stop_after_first)
    assert repo.unassigned_articles() == total - 40  # the first chunk was committed
    result = repo.rebuild_stories(chunk=40)
    assert result.assigned == total - 40 and repo.unassigned_articles() == 0
    before = grouping(any_url)
    assert repo.rebuild_stories().assigned == 0 and grouping(any_url) == before
    engine.dispose()
    truth = {
        (d.doc_id, a.seq): item
        for p, d in zip(pages, docs, strict=True)
        for a, item in zip(d.articles, p.items, strict=True)
    }
    keys = sorted(before)
    scores = pairwise([truth[k] for k in keys], [before[k] for k in keys])
    assert scores.precision >= 0.99 and scores.recall >= 0.99, scores.as_dict()


def test_downgrading_stories_keeps_the_news_rows(any_url: str) -> None:
    """Going back to 0001 removes the story tables and columns but no article or mention."""
    from alembic import command

    from services.store.db import alembic_config

    upgrade(any_url)
    engine = make_engine(any_url)
    from tests.unit.test_repository_sqlite import make_doc

    Repository(engine).store([make_doc("a"), make_doc("b")])
    count = "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM mentions)"
    with engine.connect() as conn:
        before = tuple(conn.execute(sa.text(count)).one())
        assert before == (4, 16)
        config = alembic_config(any_url)
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
        conn.commit()
    with engine.connect() as conn:
        assert tuple(conn.execute(sa.text(count)).one()) == before
        assert "story_id" not in {c["name"] for c in sa.inspect(conn).get_columns("articles")}
    engine.dispose()


def test_two_store_consumers_on_one_queue_split_no_story(pg_url: str, redis_url: str) -> None:
    """The store worker as it runs (two BatchConsumers on the real Redis queue, each with its own
    engine): pages sharing briefs and versions are taken in small batches by both at once, and every
    item ends in one story; the story metric counts every article once."""
    from dropwire.stack import wait_until
    from services.store.handler import StoreHandler
    from services.store.task import BatchConsumer
    from shared.celery_app import QUEUE_STORE, TASK_STORE, create_app, send
    from shared.metrics import create_metrics

    pages = corpus_pages(120, seed=6)
    docs = [enriched(p, START + timedelta(seconds=i)) for i, p in enumerate(pages)]
    truth = {
        (d.doc_id, a.seq): item
        for p, d in zip(pages, docs, strict=True)
        for a, item in zip(d.articles, p.items, strict=True)
    }
    upgrade(pg_url)
    app = create_app("stories-two-consumers", redis_url)
    for d in docs:
        send(app, TASK_STORE, d.to_json())
    stopping = threading.Event()
    engines, threads, metrics = [], [], []
    for _ in range(2):
        engine = make_engine(pg_url)
        m = create_metrics()
        consumer = BatchConsumer(
            app,
            StoreHandler(Repository(engine), m),
            queue=QUEUE_STORE,
            batch_size=4,
            batch_seconds=0.05,
            metrics=m,
            stopping=stopping,
            send=lambda task, payload: None,  # no ingest in this test
        )
        engines.append(engine)
        metrics.append(m)
        threads.append(threading.Thread(target=consumer.run))
    for t in threads:
        t.start()
    try:
        wait_until(lambda: len(grouping(pg_url)) == len(truth), "every article stored", timeout=120)
    finally:
        stopping.set()
        for t in threads:
            t.join(timeout=30)
        for engine in engines:
            engine.dispose()
    stored = grouping(pg_url)
    stories_per_item: dict[str, set[int]] = defaultdict(set)
    for key, item in truth.items():
        stories_per_item[item].add(stored[key])
    assert {item: s for item, s in stories_per_item.items() if len(s) > 1} == {}
    counted = sum(
        m.story_articles.labels(kind=kind)._value.get()
        for m in metrics
        for kind in ("new", "repeat", "version")
    )
    assert counted == len(truth)

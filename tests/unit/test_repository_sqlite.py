"""Repository behaviour on the embedded default, SQLite. ``tests/integration/test_store_postgres.py``
runs these very cases again on the real PostgreSQL (it re-binds the ``db_url`` fixture)."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.store.db import make_engine
from services.store.repository import RejectedByDatabase, Repository
from shared.errors import DependencyUnavailable
from shared.messages import Article, Dateline, DocumentDone, DocumentEnriched, Entity, Place

pytestmark = pytest.mark.unit

RECEIVED = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
HAGUE = Place(name="The Hague", country="NL", lat=52.0767, lon=4.2986)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def mention(body: str, surface: str, label: str, name: str | None = None) -> Entity:
    start = body.index(surface)
    return Entity(text=surface, label=label, start=start, end=start + len(surface), name=name or surface)  # type: ignore[arg-type]


def make_doc(key: str, *, name: str | None = None, heartbeat: bool = False) -> DocumentEnriched:
    """A two-article page written by hand: a main story from The Hague and a brief without dateline."""
    body1 = (
        "Premier Dick Schoof sprak dinsdag in Den Haag met Mark Rutte over de NAVO-top. Schoof was tevreden."
    )
    body2 = "Het KNMI waarschuwt voor gladheid in Groningen. Rutte reist morgen door."
    return DocumentEnriched(
        doc_id=sha(key),
        claim=f"{key}.txt",
        name=name or f"{key}.txt",
        received_at=RECEIVED,
        mtime=RECEIVED - timedelta(seconds=3),
        size=len(body1) + len(body2) + 120,
        encoding="utf-8",
        section="Binnenland",
        articles=(
            Article(
                seq=0,
                role="main",
                section="Binnenland",
                headline="Schoof en Rutte overleggen",
                dateline=Dateline(place="DEN HAAG", agencies=("ANP", "RTR"), resolved=HAGUE),
                relative_time="20 minuten geleden",
                published_at=RECEIVED - timedelta(minutes=20),
                body=body1,
                entities=(
                    mention(body1, "Dick Schoof", "PER"),
                    mention(body1, "Den Haag", "LOC", "The Hague"),
                    mention(body1, "Mark Rutte", "PER"),
                    mention(body1, "NAVO", "ORG"),
                    Entity(
                        text="Schoof",
                        label="PER",
                        start=body1.rindex("Schoof"),
                        end=body1.rindex("Schoof") + 6,
                        name="Dick Schoof",
                    ),
                ),
            ),
            Article(
                seq=1,
                role="brief",
                headline="Gladheid",
                body=body2,
                entities=(
                    mention(body2, "KNMI", "ORG"),
                    mention(body2, "Groningen", "LOC"),
                    mention(body2, "Rutte", "PER", "Mark Rutte"),
                ),
            ),
        ),
        parser_version="test-1",
        model_version="test-model-1",
        heartbeat=heartbeat,
    )


def table_counts(repo: Repository) -> dict[str, int]:
    return vars(repo.counts())


def test_store_writes_documents_articles_entities_and_mentions(repo: Repository) -> None:
    """A new document becomes one documents row, its articles, its distinct entities and every mention."""
    done = repo.store([make_doc("a")])
    assert [(d.outcome, d.claim, d.doc_id) for d in done] == [("stored", "a.txt", sha("a"))]
    assert table_counts(repo) == {"documents": 1, "articles": 2, "entities": 6, "mentions": 8, "failures": 0}


def test_store_keeps_the_dateline_and_times(repo: Repository) -> None:
    """Place as written and canonical, country, coordinates, agencies and the resolved time round-trip."""
    repo.store([make_doc("a")])
    main = next(a for a in repo.articles() if a.seq == 0)
    assert (main.place_raw, main.place, main.country, main.agencies) == (
        "DEN HAAG",
        "The Hague",
        "NL",
        ("ANP", "RTR"),
    )
    assert (main.lat, main.lon) == (pytest.approx(52.0767), pytest.approx(4.2986))
    assert main.relative_time == "20 minuten geleden"
    assert main.published_at == RECEIVED - timedelta(minutes=20)
    assert main.sha256 == sha("a") and main.role == "main" and main.headline == "Schoof en Rutte overleggen"


def test_redelivery_is_a_duplicate_and_writes_nothing(repo: Repository) -> None:
    """The same document delivered twice is stored once; the second delivery reports duplicate."""
    repo.store([make_doc("a")])
    before = table_counts(repo)
    done = repo.store([make_doc("a")])
    assert [d.outcome for d in done] == ["duplicate"]
    assert table_counts(repo) == before


def test_same_bytes_under_another_name_is_a_duplicate(repo: Repository) -> None:
    """Identity is the content hash: a copy under a new name is a duplicate with its own claim."""
    repo.store([make_doc("a")])
    done = repo.store([make_doc("a", name="copy.txt")])
    assert [(d.outcome, d.name) for d in done] == [("duplicate", "copy.txt")]
    assert repo.counts().documents == 1


def test_a_batch_mixes_new_and_repeated_documents_in_input_order(repo: Repository) -> None:
    """Outcomes come back in input order; a hash repeated inside one batch is stored once."""
    repo.store([make_doc("a")])
    done = repo.store([make_doc("b"), make_doc("a"), make_doc("c"), make_doc("b", name="again.txt")])
    assert [(d.name, d.outcome) for d in done] == [
        ("b.txt", "stored"),
        ("a.txt", "duplicate"),
        ("c.txt", "stored"),
        ("again.txt", "duplicate"),
    ]
    counts = repo.counts()
    assert (counts.documents, counts.articles, counts.mentions) == (3, 6, 24)


def test_entities_are_shared_across_documents(repo: Repository) -> None:
    """Entities are unique on (label, canonical name): a later document reuses the existing rows."""
    repo.store([make_doc("a")])
    repo.store([make_doc("b")])
    assert repo.counts().entities == 6
    top = repo.top_entities(2, by="mentions")
    assert [(e.label, e.name, e.mentions, e.articles) for e in top] == [
        ("PER", "Dick Schoof", 4, 2),
        ("PER", "Mark Rutte", 4, 4),
    ]


def test_top_entities_filters_by_label(repo: Repository) -> None:
    """top_entities(label=...) counts only that label."""
    repo.store([make_doc("a")])
    assert [(e.name, e.mentions) for e in repo.top_entities(5, label="loc")] == [
        ("Groningen", 1),
        ("The Hague", 1),
    ]


def test_articles_filter_by_entity_place_and_since(repo: Repository) -> None:
    """The operators' query filters on a canonical entity name, a place and a time, case-insensitively."""
    repo.store([make_doc("a")])
    assert [a.seq for a in repo.articles(entity="dick schoof")] == [0]
    assert [a.seq for a in repo.articles(entity="Mark Rutte")] == [
        1,
        0,
    ]  # newest first: the brief has no time
    assert [a.seq for a in repo.articles(place="the hague")] == [0]
    assert [a.seq for a in repo.articles(place="DEN HAAG")] == [0]
    assert [a.seq for a in repo.articles(since=RECEIVED - timedelta(minutes=5))] == [1]
    assert repo.articles(entity="Nobody") == []
    assert len(repo.articles(limit=1)) == 1


def test_heartbeat_is_recorded_but_never_stored_as_news(repo: Repository) -> None:
    """A heartbeat document comes back stored, updates the heartbeat row and adds no news rows."""
    done = repo.store([make_doc("beat-1", heartbeat=True)])
    assert [(d.outcome, d.heartbeat) for d in done] == [("stored", True)]
    assert table_counts(repo) == {"documents": 0, "articles": 0, "entities": 0, "mentions": 0, "failures": 0}
    beat = repo.last_heartbeat()
    assert beat is not None and beat.sha256 == sha("beat-1")
    repo.store([make_doc("beat-2", heartbeat=True)])
    assert repo.last_heartbeat().sha256 == sha("beat-2")  # type: ignore[union-attr]


def failed(claim: str, reason: str = "parse_error", at: datetime = RECEIVED) -> DocumentDone:
    return DocumentDone(
        doc_id=sha(claim),
        claim=claim,
        name=claim,
        outcome="failed",
        stage="enrich",
        reason=reason,
        detail="no articles found",
        finished_at=at,
    )


def test_failures_are_recorded_once_and_listed_newest_first(repo: Repository) -> None:
    """A failure row is written per dead-lettered document; the same failure redelivered is not doubled."""
    repo.record_failure(failed("x.txt"))
    repo.record_failure(failed("x.txt"))
    repo.record_failure(failed("y.txt", "binary", RECEIVED + timedelta(seconds=1)))
    assert repo.counts().failures == 2
    listed = repo.recent_failures(10)
    assert [(f.claim, f.stage, f.reason) for f in listed] == [
        ("y.txt", "enrich", "binary"),
        ("x.txt", "enrich", "parse_error"),
    ]
    assert listed[1].detail == "no articles found" and listed[1].failed_at == RECEIVED


def test_write_stores_documents_and_failures_in_one_transaction(repo: Repository) -> None:
    """write() stores documents and failure records together and reports the rows per table."""
    result = repo.write([make_doc("a")], failures=[failed("x.txt")])
    assert result.rows == {
        "documents": 1,
        "articles": 2,
        "entities": 6,
        "mentions": 8,
        "failures": 1,
        "journey_events": 1,
    }
    assert [d.outcome for d in result.done] == ["stored"]


def test_refused_data_rolls_back_the_whole_batch(repo: Repository) -> None:
    """A batch the database refuses raises a permanent error and leaves nothing half-written."""
    good = make_doc("a")
    bad = make_doc("b")
    # Two articles with the same seq violate the (document, seq) key: the database refuses the batch.
    bad = bad.model_copy(update={"articles": (bad.articles[0], bad.articles[0])})
    with pytest.raises(RejectedByDatabase):
        repo.store([good, bad])
    assert table_counts(repo) == {"documents": 0, "articles": 0, "entities": 0, "mentions": 0, "failures": 0}


def test_unreachable_database_is_transient(db_url: str) -> None:
    """A database that cannot be reached raises DependencyUnavailable (retry), not a permanent error."""
    url = sa.make_url(db_url)
    if url.get_backend_name() == "sqlite":
        broken = "sqlite:////nonexistent-dir/that/cannot/exist.db"
    else:
        broken = url.set(port=1).render_as_string(hide_password=False)
    engine = sa.create_engine(broken)  # plain engine: make_engine would create the SQLite folder
    with pytest.raises(DependencyUnavailable):
        Repository(engine).store([make_doc("a")])


def test_concurrent_writers_store_each_document_once(repo: Repository, db_url: str) -> None:
    """Several writers racing on overlapping batches store every document once and every entity once."""
    keys = [f"doc-{i}" for i in range(12)]
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        engine = make_engine(db_url)
        try:
            mine = keys[offset:] + keys[:offset]
            for start in range(0, len(mine), 4):
                outcomes.extend(
                    d.outcome
                    for d in Repository(engine).store([make_doc(k) for k in mine[start : start + 4]])
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=writer, args=(i * 3,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert outcomes.count("stored") == 12 and outcomes.count("duplicate") == 24
    assert (repo.counts().documents, repo.counts().entities) == (12, 6)


# ---------------------------------------------------------------------------- the Celery-free handler


def test_handler_returns_outcomes_and_forwards_failures_in_input_order(repo: Repository) -> None:
    """StoreHandler writes documents and failure records together and answers each item in order."""
    from services.store.handler import StoreHandler
    from shared.metrics import create_metrics

    metrics = create_metrics()
    handler = StoreHandler(repo, metrics)
    failure = failed("x.txt")
    out = handler.handle([make_doc("a"), failure, make_doc("a", name="twice.txt")])
    assert [(d.name, d.outcome) for d in out] == [
        ("a.txt", "stored"),
        ("x.txt", "failed"),
        ("twice.txt", "duplicate"),
    ]
    assert out[1] == failure
    assert repo.counts().failures == 1
    value = metrics.registry.get_sample_value
    assert value("dropwire_store_rows_total", {"table": "mentions"}) == 8
    assert value("dropwire_duplicates_total") == 1
    assert value("dropwire_store_batch_documents_count") == 1
    assert value("dropwire_tasks_in_progress", {"stage": "store"}) == 0


def test_handler_isolates_a_document_the_database_refuses(repo: Repository) -> None:
    """One refused document fails alone (stage store, a failure row); its batch neighbours are stored."""
    from services.store.handler import StoreHandler

    bad = make_doc("bad")
    bad = bad.model_copy(update={"articles": (bad.articles[0], bad.articles[0])})
    out = StoreHandler(repo).handle([make_doc("a"), bad, make_doc("b")])
    assert [(d.claim, d.outcome, d.stage, d.reason) for d in out] == [
        ("a.txt", "stored", None, None),
        ("bad.txt", "failed", "store", "internal"),
        ("b.txt", "stored", None, None),
    ]
    assert repo.counts().documents == 2
    assert [(f.claim, f.stage, f.reason) for f in repo.recent_failures(5)] == [
        ("bad.txt", "store", "internal")
    ]


def test_handler_notes_when_a_heartbeat_passed(repo: Repository) -> None:
    """The handler remembers the time of the last heartbeat document (for the heartbeat-age gauge)."""
    from services.store.handler import StoreHandler

    handler = StoreHandler(repo)
    handler.handle([make_doc("a")])
    assert handler.last_heartbeat is None
    handler.handle([make_doc("beat", heartbeat=True)])
    assert handler.last_heartbeat is not None


def test_decode_item_accepts_only_the_store_queue_contract() -> None:
    """Store tasks decode to DocumentEnriched, failure tasks to a failed DocumentDone; anything else is BadMessage."""
    from services.store.handler import decode_item
    from shared.celery_app import TASK_DONE, TASK_STORE, TASK_STORE_FAILURE
    from shared.errors import BadMessage

    assert decode_item(TASK_STORE, make_doc("a").to_json()) == make_doc("a")
    assert decode_item(TASK_STORE_FAILURE, failed("x.txt").to_json()) == failed("x.txt")
    not_failed = failed("x.txt").model_copy(update={"outcome": "stored"}).to_json()
    for task, payload in (
        (TASK_STORE_FAILURE, not_failed),
        (TASK_DONE, make_doc("a").to_json()),
        (TASK_STORE, "{}"),
    ):
        with pytest.raises(BadMessage):
            decode_item(task, payload)


def test_undecodable_recovers_the_claim_when_it_can() -> None:
    """A bad message that still names its claim becomes a failed DocumentDone; one that does not yields None."""
    from services.store.handler import undecodable
    from shared.errors import BadMessage

    error = BadMessage("message does not fit the schema")
    done = undecodable('{"claim": "odd.txt", "doc_id": "nope", "articles": 3}', error, RECEIVED)
    assert done is not None
    assert (done.claim, done.name, done.doc_id, done.outcome, done.stage, done.reason) == (
        "odd.txt",
        "odd.txt",
        None,
        "failed",
        "store",
        "bad_message",
    )
    assert undecodable("not json", error) is None
    assert undecodable('{"claim": ""}', error) is None
    assert undecodable(None, error) is None


def test_an_enrich_batch_message_is_its_documents_and_fails_per_document() -> None:
    """TASK_STORE_BATCH decodes to each of its DocumentEnriched; when it does not fit the schema, each
    item whose claim can be read becomes its own failed DocumentDone."""
    import json

    from services.store.handler import decode_items, undecodable_items
    from shared.celery_app import TASK_STORE, TASK_STORE_BATCH
    from shared.errors import BadMessage
    from shared.messages import DocumentsEnriched

    batch = DocumentsEnriched(items=(make_doc("a"), make_doc("b"))).to_json()
    assert decode_items(TASK_STORE_BATCH, batch) == [make_doc("a"), make_doc("b")]
    assert decode_items(TASK_STORE, make_doc("a").to_json()) == [make_doc("a")]
    broken = json.dumps({"schema_version": 1, "items": [{"claim": "a.txt"}, {"claim": "b.txt"}, {}]})
    with pytest.raises(BadMessage):
        decode_items(TASK_STORE_BATCH, broken)
    error = BadMessage("message does not fit the schema")
    assert [d.claim for d in undecodable_items(TASK_STORE_BATCH, broken, error, RECEIVED)] == [
        "a.txt",
        "b.txt",
    ]
    assert undecodable_items(TASK_STORE_BATCH, "not json", error) == []


def test_since_accepts_iso_times_and_spans() -> None:
    """`--since` takes an ISO date/time (UTC by default) or a span back from now."""
    from services.store.cli import parse_since

    assert parse_since("2026-11-21") == datetime(2026, 11, 21, tzinfo=UTC)
    assert parse_since("2026-11-21T09:30+01:00") == datetime(2026, 11, 21, 8, 30, tzinfo=UTC)
    assert parse_since("2h", now=RECEIVED) == RECEIVED - timedelta(hours=2)
    assert parse_since("7d", now=RECEIVED) == RECEIVED - timedelta(days=7)


def test_the_batch_writes_each_documents_journey_with_its_stored_step(repo: Repository) -> None:
    """Enrich's steps carried in the record and the store's ``stored`` step land in the batch's
    transaction, one row per document, and read back as one journey per claim (new, then repeat)."""
    from services.enrich.journey import with_enrich_steps
    from shared.readmodel.journey import trace

    first = with_enrich_steps(make_doc("a"), RECEIVED, 0.2)
    again = with_enrich_steps(
        make_doc("a").model_copy(update={"claim": "0badc0de__again.txt"}), RECEIVED, 0.1
    )
    result = repo.write([first, again])
    assert result.rows["journey_events"] == 2
    journeys = trace(first.doc_id, engine=repo.engine, spool_root=None)
    assert {j.claim: [s.kind for s in j.steps] for j in journeys} == {
        claim: ["enrich_started", "enriched", "stored"] for claim in (first.claim, again.claim)
    }
    outcomes = sorted(s.facts["outcome"] for j in journeys for s in j.steps if s.kind == "stored")
    assert outcomes == ["new", "repeat"]


def test_provenance_off_writes_no_journey(repo: Repository) -> None:
    """With provenance off the batch writes no journey row at all."""
    repo.provenance = False
    assert "journey_events" not in repo.write([make_doc("a")]).rows

"""The bench's measurements of the unavoidable work, each alone: enrichment on every core (the
ceiling), NER on one core, NER quality, and the store's batched writes."""

from __future__ import annotations

import hashlib
import multiprocessing
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dropwire.bench_procs import own_cpu_seconds
from dropwire.corpus import CorpusFile
from shared.decoding import decode_bytes
from shared.messages import DocumentEnriched, DocumentReceived

# --------------------------------------------------------------------------- enrichment, in-process


def received_from(item: CorpusFile, now: datetime) -> DocumentReceived:
    """What ingest would publish for one corpus file (decoded, hashed)."""
    decoded = decode_bytes(item.data)
    return DocumentReceived(
        doc_id=hashlib.sha256(item.data).hexdigest(),
        claim=item.name,
        name=item.name,
        received_at=now,
        mtime=now,
        size=len(item.data),
        encoding=decoded.encoding,
        text=decoded.text,
    )


_extractor: Any = None


def _load_extractor() -> Any:
    global _extractor
    if _extractor is None:
        from services.enrich.entities import load_extractor

        _extractor = load_extractor()
    return _extractor


def _enrich_chunk(chunk: Sequence[CorpusFile]) -> list[DocumentEnriched]:
    """Decode, parse and annotate one batch of files: the unavoidable work, exactly as an enrich worker
    process does a batch (``enrich_batch``: one NER pass over the batch's articles)."""
    from services.enrich.enrichment import enrich_batch

    extractor = _load_extractor()
    now = datetime.now(UTC)
    results = enrich_batch([received_from(item, now) for item in chunk], extractor)
    return [result for result in results if isinstance(result, DocumentEnriched)]


def _warm(_: int) -> bool:
    _load_extractor()
    return True


def words_in(docs: Sequence[DocumentEnriched]) -> int:
    return sum(len(a.body.split()) for d in docs for a in d.articles)


def _chunks(items: Sequence[CorpusFile], size: int) -> list[Sequence[CorpusFile]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class Ceiling:
    """Enrichment alone, one process per core, no queue: the most the pipeline could ever do.

    The files go in batches of ``batch_size`` (the enrich worker's batch size under a backlog), so the
    ceiling is the same code batched the same way. The processes load the model once and stay for
    every round (``with Ceiling(...) as ceiling: ceiling.measure(corpus)``).
    """

    def __init__(self, processes: int, batch_size: int) -> None:
        self.processes = processes
        self.batch_size = batch_size
        self._pool: Any = None

    def __enter__(self) -> Ceiling:
        self._pool = multiprocessing.get_context("fork").Pool(self.processes)
        # every process loads the model before timing
        self._pool.map(_warm, range(self.processes * 4), chunksize=1)
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.terminate()
        self._pool.join()

    def measure(self, corpus: Sequence[CorpusFile]) -> tuple[dict[str, float], list[DocumentEnriched]]:
        # The pool's own processes only: the pipeline's services, also children of the bench, idle
        # meanwhile but are not the ceiling's work.
        pids = [process.pid for process in self._pool._pool]
        cpu_before = own_cpu_seconds(pids)
        start = time.perf_counter()
        parts = self._pool.map(_enrich_chunk, _chunks(corpus, self.batch_size), chunksize=1)
        elapsed = time.perf_counter() - start
        cpu_used = own_cpu_seconds(pids) - cpu_before
        docs = [d for part in parts for d in part]
        articles = sum(len(d.articles) for d in docs)
        return (
            {
                "ceiling_docs_per_s": len(corpus) / elapsed,
                "ceiling_articles_per_s": articles / elapsed,
                "ceiling_words_per_s": words_in(docs) / elapsed,
                "ceiling_processes": self.processes,
                "ceiling_batch_size": self.batch_size,
                "ceiling_cpu_ms_per_doc": cpu_used * 1000 / len(corpus),
            },
            docs,
        )


def measure_ner(docs: Sequence[DocumentEnriched]) -> dict[str, float]:
    """NER alone on one core: the extractor over the articles the parser produced."""
    extractor = _load_extractor()
    bare = [tuple(a.model_copy(update={"entities": ()}) for a in d.articles) for d in docs]
    extractor.annotate(bare[0])  # warm caches
    start = time.perf_counter()
    for articles in bare:
        extractor.annotate(articles)
    elapsed = time.perf_counter() - start
    return {"ner_words_per_s_per_core": words_in(docs) / elapsed}


# Evaluation sets for the NER quality figures, relative to the repository (skipped when absent):
# CoNLL-2002 ned.testa lives in the team folder beside the checkout (research-only: evaluation only).
NER_EVAL_SETS = {
    "ner_f1_conll2002_testa": Path("../shared/data/conll2002-nl/ned.testa"),
    "ner_f1_modern_test": Path("tests/data/modern_nl/test.conll"),
}


def measure_ner_quality(root: Path) -> dict[str, float]:
    """Entity-level F1 (conlleval rules) of the shipped extractor on the evaluation sets present."""
    from services.enrich.ner_cli import tag_file

    out = {}
    for key, relative in NER_EVAL_SETS.items():
        path = root / relative
        if path.is_file():
            _, score = tag_file(path, None)
            out[key] = score.overall.f1
    return out


# --------------------------------------------------------------------------- store alone


def distinct_copies(docs: Sequence[DocumentEnriched], count: int) -> list[DocumentEnriched]:
    """``count`` documents with distinct ids, cycling over ``docs`` (so every one is really inserted)."""
    out = []
    for i in range(count):
        doc = docs[i % len(docs)]
        doc_id = hashlib.sha256(f"{doc.doc_id}:{i}".encode()).hexdigest()
        out.append(doc.model_copy(update={"doc_id": doc_id, "claim": f"{i}-{doc.claim}"}))
    return out


def measure_store(url: str, docs: Sequence[DocumentEnriched], batch: int, *, stories: bool = True) -> float:
    """Rows inserted per second (all tables) by ``Repository.write`` in batches of ``batch`` documents
    (``stories=False``: without story assignment, whose own rows are then not counted either way)."""
    from services.store.db import make_engine, upgrade
    from services.store.repository import Repository

    upgrade(url)
    engine = make_engine(url)
    repo = Repository(engine, stories=stories)
    rows = 0
    start = time.perf_counter()
    for i in range(0, len(docs), batch):
        result = repo.write(docs[i : i + batch])
        rows += sum(
            n for table, n in result.rows.items() if table != "journey_events"
        )  # as before provenance
    elapsed = time.perf_counter() - start
    engine.dispose()
    return rows / elapsed

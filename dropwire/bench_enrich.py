"""The bench's measurements of the unavoidable work, each alone: enrichment on every core (the
ceiling), NER on one core, NER quality, and the store's batched writes."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dropwire.bench_procs import cpu_seconds
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
    """Decode, parse and annotate a chunk of files: the unavoidable work, exactly as the worker does it."""
    from services.enrich.enrichment import enrich

    extractor = _load_extractor()
    now = datetime.now(UTC)
    out = []
    for item in chunk:
        result = enrich(received_from(item, now), extractor)
        if isinstance(result, DocumentEnriched):
            out.append(result)
    return out


def _warm(_: int) -> bool:
    _load_extractor()
    return True


def words_in(docs: Sequence[DocumentEnriched]) -> int:
    return sum(len(a.body.split()) for d in docs for a in d.articles)


def _chunks(items: Sequence[CorpusFile], size: int) -> list[Sequence[CorpusFile]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def measure_ceiling(
    corpus: Sequence[CorpusFile], processes: int
) -> tuple[dict[str, float], list[DocumentEnriched]]:
    """Enrichment alone, one process per core: the most the pipeline could ever do."""
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(processes) as pool:
        pool.map(_warm, range(processes * 4), chunksize=1)  # every process loads the model before timing
        cpu_before = cpu_seconds(os.getpid())
        start = time.perf_counter()
        parts = pool.map(_enrich_chunk, _chunks(corpus, 4), chunksize=1)
        elapsed = time.perf_counter() - start
        cpu_used = cpu_seconds(os.getpid()) - cpu_before
    docs = [d for part in parts for d in part]
    articles = sum(len(d.articles) for d in docs)
    return (
        {
            "ceiling_docs_per_s": len(corpus) / elapsed,
            "ceiling_articles_per_s": articles / elapsed,
            "ceiling_words_per_s": words_in(docs) / elapsed,
            "ceiling_processes": processes,
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

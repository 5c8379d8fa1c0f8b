"""Measure the entity extractor as the enrich worker runs it: load time, words/s on one core, RSS.

Articles are the documents of a CoNLL file (default: the modern-news dev and test splits, repeated
until there are enough words), each document one article body. Prints one JSON line.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/ner_bench.py [--words 200000] [--conll FILE ...]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # "per core": one thread
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_FILES = [
    REPO / "tests" / "data" / "modern_nl" / "dev.conll",
    REPO / "tests" / "data" / "modern_nl" / "test.conll",
]
DOCUMENT_ARTICLES = 8  # articles per annotate() call, about one wire page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conll", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--words", type=int, default=200_000)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()

    from services.enrich.entities.conll import read_documents
    from shared.messages import Article

    bodies = []
    for path in args.conll:
        for doc in read_documents(path.read_text(encoding="utf-8").splitlines()):
            bodies.append("\n".join(" ".join(s.tokens) for s in doc.sentences))
    started = time.perf_counter()
    from services.enrich.entities import load_extractor

    extractor = load_extractor(args.model)
    load_seconds = time.perf_counter() - started
    extractor.annotate([Article(seq=0, role="main", body=bodies[0])])  # warm-up
    articles, words = [], 0
    while words < args.words:
        for body in bodies:
            articles.append(Article(seq=len(articles) % DOCUMENT_ARTICLES, role="main", body=body))
            words += len(body.split())
    cpu0, t0 = time.process_time(), time.perf_counter()
    entities = 0
    for i in range(0, len(articles), DOCUMENT_ARTICLES):
        for a in extractor.annotate(articles[i : i + DOCUMENT_ARTICLES]):
            entities += len(a.entities)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(
        json.dumps(
            {
                "model": extractor.version,
                "load_seconds": round(load_seconds, 2),
                "words": words,
                "entities": entities,
                "wall_seconds": round(wall, 2),
                "cpu_seconds": round(cpu, 2),
                "words_per_cpu_second": round(words / cpu),
                "words_per_wall_second": round(words / wall),
                "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


if __name__ == "__main__":
    main()

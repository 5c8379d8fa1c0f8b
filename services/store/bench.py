"""A quick throughput check of ``Repository.store``: ``python -m services.store.bench URL [--docs N]``.

Synthetic pages of wire-sized articles (a main story and briefs, each with a dateline and a dozen
entity mentions drawn from a pool of a few hundred names, so entities repeat like real news), stored
in batches of ``--batch`` documents. Prints rows inserted per second over the news tables (story rows
and index keys are not counted, so ``--no-stories`` gives the figure to compare with: the cost of story
assignment; every synthetic article is a new story, the dearest case). Articles carry the story print
enrich would send (``--no-prints``: without, as from an older producer, so the store computes them).
Not a test: figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from datetime import UTC, datetime, timedelta

from services.store.db import make_engine, upgrade
from services.store.repository import Repository
from shared.messages import Article, Dateline, DocumentEnriched, Entity, Place
from shared.storyprint import with_story_print

# Distinct entity names the synthetic mentions draw from: real pages repeat a few hundred names a day.
ENTITY_POOL = 400
ARTICLES_PER_DOC = 6
MENTIONS_PER_ARTICLE = 12
LABELS = ("PER", "LOC", "ORG", "MISC")


def synthetic_docs(count: int, seed: int = 7, *, prints: bool = True) -> list[DocumentEnriched]:
    rnd = random.Random(seed)
    now = datetime.now(UTC)
    docs = []
    for i in range(count):
        articles = []
        for seq in range(ARTICLES_PER_DOC):
            words = [f"woord{rnd.randrange(5000)}" for _ in range(180)]
            body = " ".join(words)
            entities = []
            for _ in range(MENTIONS_PER_ARTICLE):
                k = rnd.randrange(ENTITY_POOL)
                start = rnd.randrange(len(body) - 10)
                entities.append(
                    Entity(text=f"Naam{k}", label=LABELS[k % 4], start=start, end=start + 6, name=f"Naam {k}")
                )
            articles.append(
                Article(
                    seq=seq,
                    role="main" if seq == 0 else "brief",
                    headline=f"Kop {i}-{seq}",
                    dateline=Dateline(
                        place="AMSTERDAM",
                        agencies=("ANP",),
                        resolved=Place(name="Amsterdam", country="NL", lat=52.37, lon=4.89),
                    ),
                    relative_time="1 uur geleden",
                    published_at=now - timedelta(hours=1),
                    body=body,
                    entities=tuple(entities),
                )
            )
        key = f"bench-{seed}-{i}-{time.time_ns()}"
        docs.append(
            DocumentEnriched(
                doc_id=hashlib.sha256(key.encode()).hexdigest(),
                claim=f"{key}.txt",
                name=f"{key}.txt",
                received_at=now,
                mtime=now,
                size=8000,
                encoding="utf-8",
                articles=tuple(with_story_print(a) for a in articles) if prints else tuple(articles),
                parser_version="bench",
                model_version="bench",
            )
        )
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument(
        "--no-stories", action="store_true", help="Store without story assignment (to compare its cost)."
    )
    parser.add_argument(
        "--no-prints", action="store_true", help="Articles without enrich's story print (older producers)."
    )
    args = parser.parse_args()
    upgrade(args.url)
    engine = make_engine(args.url)
    repo = Repository(engine, stories=not args.no_stories)
    docs = synthetic_docs(args.docs, prints=not args.no_prints)
    rows = 0
    started = time.perf_counter()
    for start in range(0, len(docs), args.batch):
        result = repo.write(docs[start : start + args.batch])
        rows += sum(result.rows.values())
    elapsed = time.perf_counter() - started
    engine.dispose()
    print(
        json.dumps(
            {
                "backend": engine.dialect.name,
                "documents": len(docs),
                "batch": args.batch,
                "stories": not args.no_stories,
                "rows": rows,
                "seconds": round(elapsed, 3),
                "rows_per_second": round(rows / elapsed),
                "documents_per_second": round(len(docs) / elapsed),
            }
        )
    )


if __name__ == "__main__":
    main()

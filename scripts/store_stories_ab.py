"""The cost of story assignment to the store alone: rows/s with it on and off, interleaved pairs.

``python scripts/store_stories_ab.py bench|synthetic [--pairs N] [--docs N] [--admin-url URL]``

* ``bench``: what ``dropwire bench`` stores (``measure_store``: the bench corpus, seed 1, 600 files,
  enriched by the real pipeline code, then ``distinct_copies`` up to 2,000 documents, so the second
  and later copies of a page are repeats of stored stories);
* ``synthetic``: ``services.store.bench``'s documents, every article a new story (the dearest case).

Each run stores into a fresh PostgreSQL database (dropped after), in batches of 50; pairs alternate
which mode goes first. Prints each run, then the medians and the median of the pairs' ratios. Run the
two checkouts one after the other in one session (``PYTHONPATH=<checkout>``) to compare code: the
machine's load moves absolute figures, the ratio within a pair much less.
"""

from __future__ import annotations

import argparse
import statistics

from dropwire.bench_enrich import distinct_copies, measure_store
from dropwire.stack import fresh_postgres
from shared.messages import DocumentEnriched


def bench_documents(count: int) -> list[DocumentEnriched]:
    from dropwire.bench_enrich import _enrich_chunk
    from dropwire.corpus import generate

    corpus = list(generate(600, seed=1))
    docs: list[DocumentEnriched] = []
    for start in range(0, len(corpus), 16):
        docs.extend(_enrich_chunk(corpus[start : start + 16]))
    return distinct_copies(docs, count)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", choices=("bench", "synthetic"))
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--docs", type=int, default=None, help="bench: 2,000; synthetic: 1,000")
    parser.add_argument("--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.corpus == "bench":
        docs = bench_documents(args.docs or 2000)
    else:
        from services.store.bench import synthetic_docs

        docs = synthetic_docs(args.docs or 1000)
    runs: dict[bool, list[float]] = {True: [], False: []}
    ratios = []
    for n in range(args.pairs):
        for stories in (True, False) if n % 2 == 0 else (False, True):
            with fresh_postgres(args.admin_url) as url:
                runs[stories].append(measure_store(url, docs, batch=50, stories=stories))
            print(
                f"pair {n} stories={'on' if stories else 'off'} {runs[stories][-1]:,.0f} rows/s", flush=True
            )
        ratios.append(runs[True][-1] / runs[False][-1])
    print(
        f"{args.corpus}: on {statistics.median(runs[True]):,.0f} off {statistics.median(runs[False]):,.0f} rows/s "
        f"(medians of {args.pairs}); on/off per pair {[round(r, 3) for r in ratios]}, "
        f"median {statistics.median(ratios):.3f}"
    )


if __name__ == "__main__":
    main()

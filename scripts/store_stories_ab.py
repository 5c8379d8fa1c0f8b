"""The cost of story assignment to the store alone: rows/s with it on and off, interleaved pairs.

``python scripts/store_stories_ab.py bench|synthetic [--pairs N] [--docs N] [--admin-url URL]``

* ``bench``: what ``dropwire bench`` stores (``measure_store``: the bench corpus, seed 1, 600 files,
  enriched by the real pipeline code, then ``distinct_copies`` up to 2,000 documents, so the second
  and later copies of a page are repeats of stored stories);
* ``synthetic``: ``services.store.bench``'s documents, every article a new story (the dearest case).

Each run stores into a fresh PostgreSQL database (dropped after), in batches of 50; pairs alternate
which mode goes first. ``--phases`` (``bench``) also times the first copies (the first 600 documents:
new stories, versions, repeats inside the corpus) apart from the later copies (every article a repeat
of a stored one), to show which of the two story assignment slows down. ``--cpu`` also reports the CPU
seconds of the store process and of its PostgreSQL backend per run (Linux, database on this host):
steadier than wall time when other work shares the cores. Prints each run, then the medians and the median of the pairs' ratios. Run the
two checkouts one after the other in one session (``PYTHONPATH=<checkout>``) to compare code: the
machine's load moves absolute figures, the ratio within a pair much less.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Sequence
from typing import Any

from dropwire.bench_enrich import distinct_copies, measure_store
from dropwire.stack import fresh_postgres
from shared.messages import DocumentEnriched

# The bench corpus's pages: ``distinct_copies`` cycles over them, so documents from this index on repeat.
BENCH_PAGES = 600


def bench_documents(count: int) -> list[DocumentEnriched]:
    from dropwire.bench_enrich import _enrich_chunk
    from dropwire.corpus import generate

    corpus = list(generate(BENCH_PAGES, seed=1))
    docs: list[DocumentEnriched] = []
    for start in range(0, len(corpus), 16):
        docs.extend(_enrich_chunk(corpus[start : start + 16]))
    return distinct_copies(docs, count)


def measure_phases(
    url: str, docs: Sequence[DocumentEnriched], batch: int, stories: bool, first: int
) -> tuple[float, float, float]:
    """``measure_store``'s rows/s (the same loop), and the seconds the batches of the first ``first``
    documents took and those of the rest (``first`` a multiple of ``batch``)."""
    from services.store.db import make_engine, upgrade
    from services.store.repository import Repository

    upgrade(url)
    engine = make_engine(url)
    repo = Repository(engine, stories=stories)
    rows, spent = 0, [0.0, 0.0]
    start = time.perf_counter()
    for i in range(0, len(docs), batch):
        began = time.perf_counter()
        result = repo.write(docs[i : i + batch])
        spent[i >= first] += time.perf_counter() - began
        rows += sum(n for table, n in result.rows.items() if table != "journey_events")
    elapsed = time.perf_counter() - start
    engine.dispose()
    return rows / elapsed, spent[0], spent[1]


def _server_cpu(pid: int) -> float:
    """Seconds of CPU the PostgreSQL backend ``pid`` has used (user + system; Linux /proc, same host)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_cpu(
    url: str, docs: Sequence[DocumentEnriched], batch: int, stories: bool
) -> tuple[float, float, float]:
    """``measure_store``'s rows/s (the same loop), and the CPU seconds it took: this process's, and
    the PostgreSQL backends' of its connections (read from /proc before they close). Other work on
    the machine slows both sides' wall time; the CPU each side spends moves much less."""
    from sqlalchemy import event

    from services.store.db import make_engine, upgrade
    from services.store.repository import Repository

    upgrade(url)
    engine = make_engine(url)
    backends: dict[int, float] = {}  # backend pid → its CPU when first seen

    @event.listens_for(engine, "connect")
    def _backend(dbapi_conn: Any, _record: Any) -> None:
        pid = dbapi_conn.info.backend_pid
        backends[pid] = _server_cpu(pid)

    with engine.connect():
        pass  # the pool's connection, and its backend's CPU so far
    repo = Repository(engine, stories=stories)
    rows = 0
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(docs), batch):
        result = repo.write(docs[i : i + batch])
        rows += sum(n for table, n in result.rows.items() if table != "journey_events")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    server = sum(_server_cpu(pid) - before for pid, before in backends.items())
    engine.dispose()
    return rows / elapsed, cpu, server


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", choices=("bench", "synthetic"))
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--docs", type=int, default=None, help="bench: 2,000; synthetic: 1,000")
    parser.add_argument("--phases", action="store_true", help="bench: first copies and repeats timed apart")
    parser.add_argument(
        "--cpu", action="store_true", help="also the CPU seconds of the store and of its PostgreSQL backend"
    )
    parser.add_argument("--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.corpus == "bench":
        docs = bench_documents(args.docs or 2000)
    else:
        from services.store.bench import synthetic_docs

        docs = synthetic_docs(args.docs or 1000)
    phases = args.phases and args.corpus == "bench"
    runs: dict[bool, list[float]] = {True: [], False: []}
    spent: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    cpus: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    ratios = []
    for n in range(args.pairs):
        for stories in (True, False) if n % 2 == 0 else (False, True):
            with fresh_postgres(args.admin_url) as url:
                if phases:
                    rate, first, rest = measure_phases(url, docs, 50, stories, BENCH_PAGES)
                    spent[stories].append((first, rest))
                elif args.cpu:
                    rate, store_cpu, server_cpu = measure_cpu(url, docs, 50, stories)
                    cpus[stories].append((store_cpu, server_cpu))
                else:
                    rate = measure_store(url, docs, batch=50, stories=stories)
                runs[stories].append(rate)
            timed = f" (first copies {first:.2f} s, repeats {rest:.2f} s)" if phases else ""
            if args.cpu and not phases:
                timed = f" (CPU: store {store_cpu:.2f} s, PostgreSQL {server_cpu:.2f} s)"
            print(
                f"pair {n} stories={'on' if stories else 'off'} {runs[stories][-1]:,.0f} rows/s{timed}",
                flush=True,
            )
        ratios.append(runs[True][-1] / runs[False][-1])
    if phases:
        for part, name in enumerate(("first copies", "repeats")):
            on = statistics.median(s[part] for s in spent[True])
            off = statistics.median(s[part] for s in spent[False])
            print(f"{name}: on {on:.2f} s, off {off:.2f} s (medians), off/on {off / on:.3f}")
    if cpus[True]:
        for part, name in enumerate(("store", "PostgreSQL")):
            on = statistics.median(c[part] for c in cpus[True])
            off = statistics.median(c[part] for c in cpus[False])
            print(f"CPU of {name}: on {on:.2f} s, off {off:.2f} s (medians)")
        shares = [sum(off) / sum(on) for on, off in zip(cpus[True], cpus[False], strict=True)]
        print(
            f"CPU off/on (store + PostgreSQL) per pair {[round(r, 3) for r in shares]}, median {statistics.median(shares):.3f}"
        )
    print(
        f"{args.corpus}: on {statistics.median(runs[True]):,.0f} off {statistics.median(runs[False]):,.0f} rows/s "
        f"(medians of {args.pairs}); on/off per pair {[round(r, 3) for r in ratios]}, "
        f"median {statistics.median(ratios):.3f}"
    )


if __name__ == "__main__":
    main()

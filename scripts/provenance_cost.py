"""What provenance costs per document, measured where it is paid (interleaved, for a noisy machine).

    python scripts/provenance_cost.py micro               # ingest's journal, enrich's steps, encoding
    python scripts/provenance_cost.py store 400           # store alone on PostgreSQL, on/off batches
    python scripts/provenance_cost.py embedded 150 4      # dropwire run, on/off runs alternating

``store`` needs a PostgreSQL server (``DROPWIRE_PG_ADMIN_URL``, default the local one); ``make bench``
measures the whole pipeline on and off (``provenance_ratio``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from dropwire.corpus import generate
from services.enrich.enrichment import enrich
from services.enrich.entities import load_extractor
from services.enrich.journey import with_enrich_steps
from shared.decoding import decode_bytes
from shared.journal import Journal, here, step
from shared.messages import DocumentEnriched, DocumentReceived

PG_ADMIN = os.environ.get("DROPWIRE_PG_ADMIN_URL", "postgresql+psycopg://root@127.0.0.1:5432/postgres")
BATCH = 50


def enriched_docs(count: int) -> list[DocumentEnriched]:
    """``count`` corpus pages through enrich, each carrying enrich's steps as the task adds them."""
    extractor = load_extractor(None)
    out = []
    for i, item in enumerate(generate(count, seed=7, duplicate_share=0.0)):
        decoded = decode_bytes(item.data)
        now = datetime.now(UTC)
        received = DocumentReceived(
            doc_id=hashlib.sha256(item.data).hexdigest(),
            claim=f"{i:08x}__{item.name}",
            name=item.name,
            received_at=now,
            mtime=now,
            size=len(item.data),
            encoding=decoded.encoding,
            text=decoded.text,
        )
        started = time.perf_counter()
        result = enrich(received, extractor)
        assert isinstance(result, DocumentEnriched)
        out.append(with_enrich_steps(result, now, time.perf_counter() - started))  # type: ignore[arg-type]
    return out


def micro() -> None:
    journal = Journal(Path(tempfile.mkdtemp(prefix="dropwire-journal-")))
    n = 20_000
    started = time.perf_counter()
    for i in range(n):
        claim = f"{i:08x}__wire.txt"
        journal.record(claim, [step("dropped"), step("claimed", **here())])
        journal.record(claim, [step("queued", publish=1)], "a" * 64)
        journal.record(claim, [step("archived")], "a" * 64)
    per_file = (time.perf_counter() - started) / n * 1e6
    print(f"ingest: journal, three lines per file (claim, queue, file away): {per_file:.1f} us per file")
    docs = enriched_docs(BATCH)
    plain = [d.model_copy(update={"journey": ()}) for d in docs]
    rounds = 100
    started = time.perf_counter()
    for _ in range(rounds):
        for d in plain:
            with_enrich_steps(d, datetime.now(UTC), 0.1)
    per_doc = (time.perf_counter() - started) / (rounds * len(plain)) * 1e6
    print(f"enrich: with_enrich_steps {per_doc:.1f} us per document")
    for label, batch in (("with", docs), ("without", plain)):
        started = time.perf_counter()
        for _ in range(rounds):
            for d in batch:
                d.to_json()
        per_doc = (time.perf_counter() - started) / (rounds * len(batch)) * 1e6
        print(f"enrich: encoding DocumentEnriched {label} its journey: {per_doc:.1f} us per document")


def store(count: int) -> None:
    from dropwire.stack import fresh_postgres
    from services.store.db import make_engine, upgrade
    from services.store.repository import Repository

    docs = enriched_docs(count)
    seconds: dict[bool, list[float]] = {True: [], False: []}
    with fresh_postgres(PG_ADMIN) as on_url, fresh_postgres(PG_ADMIN) as off_url:
        repos = {}
        for flag, url in ((True, on_url), (False, off_url)):
            upgrade(url)
            repos[flag] = Repository(make_engine(url), provenance=flag)
        for i in range(0, len(docs), BATCH):
            order = (True, False) if (i // BATCH) % 2 == 0 else (False, True)
            for flag in order:
                started = time.perf_counter()
                repos[flag].write(docs[i : i + BATCH])
                seconds[flag].append(time.perf_counter() - started)
        for repo in repos.values():
            repo.engine.dispose()
    on, off = sum(seconds[True]), sum(seconds[False])
    print(
        f"store alone, PostgreSQL, {len(docs)} documents in batches of {BATCH}, on/off alternating: "
        f"on {len(docs) / on:.1f} docs/s, off {len(docs) / off:.1f} docs/s, on/off {off / on:.3f}"
    )


def embedded(count: int, rounds: int) -> None:
    """``dropwire run`` over one corpus, provenance on and off alternating: wall rate, and the process's
    CPU per document (far steadier than the rate on a shared machine)."""
    from dropwire.bench_pipeline import drop_all, wait_drained
    from dropwire.embedded import Embedded, EmbeddedConfig
    from shared.settings import IngestSettings

    corpus = list(generate(count, seed=11))
    rates: dict[str, list[float]] = {"true": [], "false": []}
    cpu: dict[str, list[float]] = {"true": [], "false": []}
    for i in range(rounds):
        for flag in ("true", "false") if i % 2 == 0 else ("false", "true"):
            os.environ["DROPWIRE_PROVENANCE"] = flag
            with tempfile.TemporaryDirectory(prefix="dropwire-prov-") as tmp:
                root = Path(tmp)
                config = EmbeddedConfig(
                    spool_dir=root / "spool",
                    database_url=f"sqlite:///{root / 'embedded.db'}",
                    ingest=IngestSettings(settle_seconds=0.2, poll_interval=0.05, heartbeat_seconds=0),
                    metrics_port=0,
                )
                with Embedded(config):
                    cpu_start, start = time.process_time(), time.perf_counter()
                    drop_all(root / "spool" / "inbox", corpus)
                    wait_drained(root / "spool", len(corpus), f"provenance={flag}")
                    elapsed, spent = time.perf_counter() - start, time.process_time() - cpu_start
            rates[flag].append(len(corpus) / elapsed)
            cpu[flag].append(spent * 1000 / len(corpus))
            print(
                f"round {i} provenance={flag}: {len(corpus) / elapsed:.2f} docs/s, "
                f"{spent * 1000 / len(corpus):.1f} ms CPU per document",
                flush=True,
            )
    on, off = statistics.median(rates["true"]), statistics.median(rates["false"])
    cpu_on, cpu_off = statistics.median(cpu["true"]), statistics.median(cpu["false"])
    print(f"dropwire run, medians: on {on:.2f} docs/s, off {off:.2f} docs/s, on/off {on / off:.3f}")
    print(
        f"dropwire run, CPU per document, medians: on {cpu_on:.2f} ms, off {cpu_off:.2f} ms, off/on {cpu_off / cpu_on:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=("micro", "store", "embedded"))
    parser.add_argument("count", nargs="?", type=int, default=150)
    parser.add_argument("rounds", nargs="?", type=int, default=4)
    args = parser.parse_args()
    if args.what == "micro":
        micro()
    elif args.what == "store":
        store(args.count)
    else:
        embedded(args.count, args.rounds)


if __name__ == "__main__":
    main()

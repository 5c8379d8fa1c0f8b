"""The embedded ``dropwire run`` measured two ways, interleaved: inside the measuring process (as
``dropwire bench`` did before issue 13's third round) and as a process of its own (as it does now).

    python scripts/embedded_measure_ab.py [pairs]

Each pair runs both ways on the same 600-file corpus (seed 1), in alternating order, each in a fresh
folder; prints documents/s of each run and the own/inside ratio per pair with its median. Inside the
measuring process the bench's progress display and its polling of the spool share the run's
interpreter lock; in a process of their own they only share the cores.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from dropwire.bench_pipeline import drop_all, measure_embedded, wait_drained
from dropwire.corpus import CorpusFile, generate
from shared.logging import configure_logging


def inside(corpus: list[CorpusFile], root: Path) -> float:
    """Documents/s of ``Embedded`` started in this process (the bench's former measure)."""
    from dropwire.embedded import Embedded, EmbeddedConfig
    from shared.settings import IngestSettings

    spool = root / "spool"
    config = EmbeddedConfig(
        spool_dir=spool,
        database_url=f"sqlite:///{root / 'embedded.db'}",
        ingest=IngestSettings(settle_seconds=0.2, poll_interval=0.05),
        metrics_port=0,
    )
    with Embedded(config):
        start = time.perf_counter()
        drop_all(spool / "inbox", corpus)
        wait_drained(spool, len(corpus), "embedded run, inside")
        elapsed = time.perf_counter() - start
    return len(corpus) / elapsed


def main() -> None:
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    configure_logging("WARNING")
    corpus = list(generate(600, seed=1))
    runs: dict[str, list[float]] = {"inside": [], "own": []}
    for n in range(pairs):
        for how in ("inside", "own") if n % 2 == 0 else ("own", "inside"):
            with tempfile.TemporaryDirectory(prefix="dropwire-embedded-ab-") as tmp:
                if how == "inside":
                    rate = inside(corpus, Path(tmp))
                else:
                    rate = measure_embedded(corpus, Path(tmp))["embedded_docs_per_s"]
            runs[how].append(rate)
            print(f"pair {n + 1} {how}: {rate:.1f} docs/s", flush=True)
    ratios = [own / ins for own, ins in zip(runs["own"], runs["inside"], strict=True)]
    print("own / inside per pair:", " ".join(f"{r:.3f}" for r in ratios))
    print(f"median {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()

"""The enrichment ceiling (``dropwire.bench_enrich.Ceiling``: two processes, no queue) with enrich batches of
8 and of 16 documents, interleaved: what the smaller batch costs enrichment itself.

    python scripts/ceiling_batch_ab.py [pairs]

Prints documents/s of each run and the 8/16 ratio per pair with its median.
"""

from __future__ import annotations

import statistics
import sys

from dropwire.bench_enrich import Ceiling
from dropwire.corpus import generate


def main() -> None:
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    corpus = list(generate(600, seed=1))
    rates: dict[int, list[float]] = {8: [], 16: []}
    with Ceiling(2, 8) as small, Ceiling(2, 16) as large:
        for n in range(pairs):
            order = ((8, small), (16, large)) if n % 2 == 0 else ((16, large), (8, small))
            for size, ceiling in order:
                figures, _ = ceiling.measure(corpus)
                rates[size].append(figures["ceiling_docs_per_s"])
                print(f"pair {n + 1} batch {size}: {figures['ceiling_docs_per_s']:.1f} docs/s", flush=True)
    ratios = [a / b for a, b in zip(rates[8], rates[16], strict=True)]
    print("8 / 16 per pair:", " ".join(f"{r:.3f}" for r in ratios))
    print(f"median {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()

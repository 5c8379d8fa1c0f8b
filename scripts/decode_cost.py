"""CPU per document of decoding the wire messages: ``shared.messages.decode`` against ``json.loads``
followed by ``model_validate`` (what ``decode`` did before it let pydantic parse the JSON itself).

``python scripts/decode_cost.py [--files 64] [--rounds 3]``

Enriches ``--files`` generated pages in batches of 16 with the shipped model (as enrich's worker
processes do), builds each batch's ``DocumentsEnriched`` store message and each page's
``DocumentReceived``, and times decoding them 20 times per round (process CPU time).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from dropwire.bench_enrich import _load_extractor, received_from
from dropwire.corpus import generate
from services.enrich.enrichment import enrich_batch
from services.enrich.pool import store_message
from shared.messages import DocumentReceived, DocumentsEnriched, Message, decode

REPEATS = 20


def two_steps(model: type[Message], payload: str) -> Message:
    return model.model_validate(json.loads(payload))


def ms_per_document(
    fn: Callable[..., Message], model: type[Message], payloads: Sequence[str], docs: int
) -> float:
    start = time.process_time()
    for _ in range(REPEATS):
        for payload in payloads:
            fn(model, payload)
    return (time.process_time() - start) / REPEATS / docs * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    received = [
        received_from(f, datetime.now(UTC)) for f in generate(args.files, seed=5, duplicate_share=0.0)
    ]
    extractor = _load_extractor()
    enriched = [d for i in range(0, len(received), 16) for d in enrich_batch(received[i : i + 16], extractor)]
    batches = [store_message(enriched[i : i + 16]) for i in range(0, len(enriched), 16)]
    store_payloads = [m[1] for m in batches if m is not None]
    received_payloads = [r.to_json() for r in received]
    print(
        f"{len(received)} documents; {sum(map(len, store_payloads)) / len(received):.0f} bytes each to the store"
    )
    for number in range(1, args.rounds + 1):
        for name, fn in (("json.loads + model_validate", two_steps), ("shared.messages.decode", decode)):
            batch = ms_per_document(fn, DocumentsEnriched, store_payloads, len(received))
            one = ms_per_document(fn, DocumentReceived, received_payloads, len(received))
            print(
                f"round {number}: {name}: DocumentsEnriched {batch:.3f} ms, DocumentReceived {one:.3f} ms per document"
            )


if __name__ == "__main__":
    main()

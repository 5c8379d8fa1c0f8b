"""How fast the parser reads pages, without the NER step: ``python scripts/parser_bench.py [--pages N]``.

Over the real-layout pages the tests use (``tests/fixtures/pages``, plus ``../shared/seeds`` when the
team folder is beside the checkout), repeated to ``--pages`` pages a run, best of ``--runs`` runs:

- ``split_page``: the layout reader alone (articles, datelines, headlines, furniture);
- ``decode_bytes`` + ``parse_page``: what enrich does to a page before NER (decoding, splitting,
  relative and absolute times, the gazetteer's places);
- loading the gazetteer (a fresh process each time: it is read once per process);
- ``decode_bytes`` of a ~1.3 MB cp1252 file and a ~1.4 MB UTF-8 file.

Prints a JSON object. Figures depend on the machine and on what else runs on it: state both.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from services.enrich.gazetteer import load_gazetteer
from services.enrich.parser import parse_page
from services.enrich.splitter import split_page
from shared.decoding import decode_bytes

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = "Oekraïne meldt “zware” aanval\nKYIV (ANP) - Tekst met € en café, 20 minuten geleden.\n"


def page_files() -> list[Path]:
    pages = sorted((ROOT / "tests" / "fixtures" / "pages").glob("*.txt"))
    seeds = ROOT.parent / "shared" / "seeds"
    if seeds.is_dir():
        pages += sorted(seeds.glob("*.txt"))
    return pages


def best_rate(work: Callable[[], None], items: int, runs: int) -> dict[str, float]:
    """Items per second over ``runs`` runs of ``work``: the best (least disturbed) and the median."""
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        rates.append(items / (time.perf_counter() - start))
    return {"best": round(max(rates)), "median": round(statistics.median(rates))}


def gazetteer_load_seconds(runs: int) -> list[float]:
    code = (
        "import time; from services.enrich.gazetteer import load_gazetteer; t = time.perf_counter(); "
        "load_gazetteer(); print(time.perf_counter() - t)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
        )
        out.append(round(float(done.stdout.strip()), 3))
    return out


def decode_ms(raw: bytes, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        decode_bytes(raw)
        out.append(round((time.perf_counter() - start) * 1000, 1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000, help="pages per run")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    files = page_files()
    raw = [path.read_bytes() for path in files]
    texts = [decode_bytes(data).text for data in raw]
    batch_raw = [raw[i % len(raw)] for i in range(args.pages)]
    batch_text = [texts[i % len(texts)] for i in range(args.pages)]
    gazetteer = load_gazetteer()
    received = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def split_all() -> None:
        for text in batch_text:
            split_page(text)

    def parse_all() -> None:
        for data in batch_raw:
            parse_page(decode_bytes(data).text, received_at=received, gazetteer=gazetteer)

    cp1252 = (SAMPLE * 15_000).encode("cp1252")
    utf8 = (SAMPLE * 15_000).encode("utf-8")
    report = {
        "pages": {"files": len(files), "mean_bytes": round(statistics.mean(len(d) for d in raw))},
        "split_page_pages_per_s": best_rate(split_all, args.pages, args.runs),
        "decode_and_parse_pages_per_s": best_rate(parse_all, args.pages, args.runs),
        "gazetteer_load_seconds": gazetteer_load_seconds(3),
        f"decode_cp1252_{len(cp1252) / 1e6:.2f}MB_ms": decode_ms(cp1252, 10),
        f"decode_utf8_{len(utf8) / 1e6:.2f}MB_ms": decode_ms(utf8, 10),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

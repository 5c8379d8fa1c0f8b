"""How fast the console answers on a big store: ``python scripts/console_bench.py URL [--articles N]``.

Fills the database at ``URL`` (migrated to head) through the store's own ``Repository.write`` with
synthetic pages (``services.store.bench.synthetic_docs``: six articles each, a dozen entity mentions per
article from a pool of 400 names, 180 filler words from a 5,000-word vocabulary), each article body
followed by two real Dutch sentences drawn from the parser's test pages, so the search index holds
Dutch words of varied frequency. Then serves the console (uvicorn, in this process, one worker) and
times HTTP requests from the same machine: the Documents page (50 documents), a filtered Documents
page, the Search page and ``/api/search`` for a rotation of Dutch words. Prints p50/p95 per request
kind as JSON. Not a test: figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from tempfile import TemporaryDirectory

import uvicorn

from dropwire.stack import free_port
from services.console.app import create_app
from services.console.context import Console
from services.console.security import Guard
from services.store.bench import synthetic_docs
from services.store.db import make_engine, upgrade
from services.store.repository import Repository
from shared.readmodel import ReadModel, open_engine
from shared.spool import Spool

PAGES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "pages"
ARTICLES_PER_DOC = 6  # as synthetic_docs makes them
# Words of the fixture sentences, from common (one in five articles) to rare, several in another
# inflection than the text has ("storingen" for "storing"), one of two words.
QUERIES = (
    "storingen",
    "kabinet",
    "treinverkeer",
    "vertraging",
    "vakantiewoning",
    "burgemeester",
    "explosieven",
    "Feyenoord trainer",
)


def sentences() -> list[str]:
    out: list[str] = []
    for page in sorted(PAGES.glob("*.txt")):
        raw = page.read_bytes()
        for encoding in ("utf-8-sig", "utf-16", "cp1252"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        out += [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 40]
    return out


def fill(url: str, articles: int, batch: int, seed: int = 11) -> int:
    rnd = random.Random(seed)
    pool = sentences()
    repo = Repository(make_engine(url))
    docs_total = -(-articles // ARTICLES_PER_DOC)
    written = 0
    while written < docs_total:
        chunk = synthetic_docs(min(1000, docs_total - written), seed=seed + written)
        chunk = [
            doc.model_copy(
                update={
                    "articles": tuple(
                        a.model_copy(update={"body": a.body + " " + " ".join(rnd.sample(pool, 2))})
                        for a in doc.articles
                    )
                }
            )
            for doc in chunk
        ]
        for start in range(0, len(chunk), batch):
            repo.write(chunk[start : start + batch])
        written += len(chunk)
    repo.engine.dispose()
    return written


def timed(url: str, count: int) -> list[float]:
    out = []
    for _ in range(count):
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()
            assert response.status == 200, url
        out.append(time.perf_counter() - started)
    return out


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[max(0, round(0.95 * len(ordered)) - 1)] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--requests", type=int, default=100, help="Timed requests per kind.")
    parser.add_argument("--skip-fill", action="store_true", help="Measure the data already there.")
    args = parser.parse_args()
    upgrade(args.url)
    fill_seconds = None
    if not args.skip_fill:
        started = time.perf_counter()
        fill(args.url, args.articles, args.batch)
        fill_seconds = round(time.perf_counter() - started, 1)
    engine = open_engine(args.url)
    read = ReadModel(engine)
    counts = read.counts()
    with TemporaryDirectory() as spool_dir:
        spool = Spool(Path(spool_dir))
        spool.ensure()
        app = create_app(Console(read=read, spool=spool, guard=Guard(token=None)))
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        timed(base + "/documents", 5)  # warm the pool and the caches
        per_query = max(1, args.requests // len(QUERIES))
        results = {
            "documents_page": summary(timed(base + "/documents", args.requests)),
            "documents_page_by_entity": summary(
                timed(base + "/documents?entity=" + urllib.parse.quote("Naam 7"), args.requests)
            ),
            "search_page": summary(
                [t for q in QUERIES for t in timed(f"{base}/search?q={urllib.parse.quote(q)}", per_query)]
            ),
            "search_api": summary(
                [t for q in QUERIES for t in timed(f"{base}/api/search?q={urllib.parse.quote(q)}", per_query)]
            ),
        }
        server.should_exit = True
        thread.join(10)
    engine.dispose()
    print(
        json.dumps(
            {
                "backend": engine.dialect.name,
                "documents": counts.documents,
                "articles": counts.articles,
                "mentions": counts.mentions,
                "fill_seconds": fill_seconds,
                **results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

"""The end-to-end scenario both pipelines must pass: the services as processes, and ``dropwire run``.

``exercise(pipeline, seeds_dir)`` drives any object with ``spool`` (its spool folder), ``database_url``,
``start()`` and ``counts()``: one file waits in the inbox before start-up, then the two seeds and the
project's fixture pages are dropped, the same bytes again under another name, a file written slowly
in chunks, and two broken files. It polls with a deadline until every file is in ``archive/`` or
``failed/`` and then checks, from the database: one document per distinct content, the articles per
file and their datelines (the seeds against their gold files, the fixtures against the parser run
here), exactly the entity mentions the NER model finds in each file (run here on the same articles),
with offsets pointing at their surface text, and a failure row per broken file.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa

from dropwire.stack import wait_until
from services.enrich.parser import parse_page
from shared.decoding import decode_bytes

FIXTURE_PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
# The whole flow on a 2-core machine shared with others: generous, but a stall still fails the test.
FLOW_DEADLINE_SECONDS = 60.0
# Chunks of the slow writer and the pause between them: longer in total than the settle time, each
# pause shorter, so a premature claim would be seen.
SLOW_CHUNKS = 5
SLOW_PAUSE_SECONDS = 0.2

# Broken on purpose: what ingest must refuse, with the reason it must give.
BROKEN = {
    "kapot-plaatje.txt": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary"),
    "kapot-utf8.txt": (
        ("Oekraïne meldt vooruitgang. " * 20).encode() + b"\xc3\x28" + b"en verder.",
        "undecodable",
    ),
}


class Pipeline(Protocol):
    spool: Path
    database_url: str

    def start(self) -> None: ...

    def counts(self) -> dict[str, int]: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Expected:
    """What one good file must become: its articles' (role, dateline place, agencies) in order."""

    name: str
    data: bytes
    articles: tuple[tuple[str, str | None, tuple[str, ...]], ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def seed_expectations(seeds_dir: Path) -> list[Expected]:
    """The seeds with their gold files (read from the team folder, never copied into the repo)."""
    out = []
    for gold_path in sorted((seeds_dir / "gold").glob("*.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        articles = tuple((a["role"], a["dateline_place"], tuple(a["agencies"])) for a in gold["articles"])
        out.append(Expected(gold["file"], (seeds_dir / gold["file"]).read_bytes(), articles))
    return out


def fixture_expectations() -> list[Expected]:
    """The project's fixture pages, expected as the parser reads them here."""
    out = []
    for path in sorted(FIXTURE_PAGES.glob("*.txt")):
        data = path.read_bytes()
        page = parse_page(decode_bytes(data).text, received_at=datetime.now(UTC))
        articles = tuple(
            (
                a.role,
                a.dateline.place if a.dateline else None,
                tuple(a.dateline.agencies) if a.dateline else (),
            )
            for a in page.articles
        )
        out.append(Expected(path.name, data, articles))
    return out


@functools.cache
def _extractor() -> Any:
    """The NER model the services use (the shipped one, or DROPWIRE_NER_MODEL), loaded once per session."""
    from services.enrich.entities import load_extractor

    return load_extractor(os.environ.get("DROPWIRE_NER_MODEL") or None)


def expected_mentions(item: Expected) -> list[tuple[int, str, str, int, int]]:
    """(article seq, label, surface, start, end) of every entity mention the NER finds in ``item``."""
    page = parse_page(decode_bytes(item.data).text, received_at=datetime.now(UTC))
    articles = _extractor().annotate(page.articles)
    return sorted((a.seq, e.label, e.text, e.start, e.end) for a in articles for e in a.entities)


def drop(spool: Path, name: str, data: bytes) -> None:
    """An operator's atomic drop: a hidden partial file, then a rename into place."""
    partial = spool / "inbox" / f".{name}.part"
    partial.write_bytes(data)
    os.rename(partial, spool / "inbox" / name)


def write_slowly(path: Path, data: bytes, claimed_early: list[str]) -> None:
    """Write ``data`` through one open handle in chunks with pauses, noting any premature claim."""
    size = -(-len(data) // SLOW_CHUNKS)
    with path.open("wb") as fh:
        for i in range(SLOW_CHUNKS):
            fh.write(data[i * size : (i + 1) * size])
            fh.flush()
            os.fsync(fh.fileno())
            time.sleep(SLOW_PAUSE_SECONDS)  # the writer's own pace, not a wait for the pipeline
            if not path.exists():
                claimed_early.append(f"gone from the inbox after chunk {i + 1} of {SLOW_CHUNKS}")


def _rows(database_url: str) -> dict[str, Any]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            documents = {r.sha256: r._asdict() for r in conn.execute(sa.text("select * from documents"))}
            articles = [
                r._asdict()
                for r in conn.execute(
                    sa.text(
                        "select d.sha256, a.id, a.seq, a.role, a.place_raw, a.agencies, a.body "
                        "from articles a join documents d on d.id = a.document_id order by d.sha256, a.seq"
                    )
                )
            ]
            mentions = [
                r._asdict()
                for r in conn.execute(
                    sa.text(
                        "select d.sha256, a.seq, m.article_id, m.start_offset, m.end_offset, m.surface, e.label "
                        "from mentions m join entities e on e.id = m.entity_id "
                        "join articles a on a.id = m.article_id join documents d on d.id = a.document_id"
                    )
                )
            ]
            failures = [
                r._asdict() for r in conn.execute(sa.text("select name, stage, reason from failures"))
            ]
    finally:
        engine.dispose()
    return {"documents": documents, "articles": articles, "mentions": mentions, "failures": failures}


def exercise(
    pipeline: Pipeline, seeds_dir: Path, on_started: Callable[[], None] | None = None
) -> dict[str, Any]:
    """Run the scenario of the module docstring against ``pipeline``; returns the rows it read back."""
    seeds = seed_expectations(seeds_dir)
    fixtures = fixture_expectations()
    good = seeds + fixtures
    spool = pipeline.spool

    # A file already waiting when the pipeline starts: watchers report no event for it.
    early = good[-1]
    (spool / "inbox" / f"vooraf-{early.name}").write_bytes(early.data)
    pipeline.start()
    if on_started is not None:
        on_started()

    for item in good[:-1]:
        drop(spool, item.name, item.data)
    for name, (data, _) in BROKEN.items():
        drop(spool, name, data)
    slow = Expected("langzaam.txt", seeds[0].data + b"\n" + seeds[1].data, ())
    claimed_early: list[str] = []
    writer = threading.Thread(
        target=write_slowly, args=(spool / "inbox" / slow.name, slow.data, claimed_early)
    )
    writer.start()
    writer.join(30)
    assert claimed_early == [], claimed_early

    total = len(good) + 1  # + the slowly written file
    wanted = {"inbox": 0, "processing": 0, "archive": total, "failed": len(BROKEN)}
    try:
        wait_until(lambda: pipeline.counts() == wanted, f"folders {wanted}", timeout=FLOW_DEADLINE_SECONDS)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; folders now {pipeline.counts()}\n{pipeline.describe()}") from None
    rows = _rows(pipeline.database_url)

    # The same bytes under another name: archived as a duplicate, no new rows.
    before = {k: len(v) for k, v in rows.items()}
    drop(spool, "zelfde-inhoud-andere-naam.txt", seeds[0].data)
    wait_until(
        lambda: pipeline.counts()["archive"] == total + 1 and pipeline.counts()["processing"] == 0,
        "the duplicate to be archived",
        timeout=FLOW_DEADLINE_SECONDS,
    )
    rows = _rows(pipeline.database_url)
    assert {k: len(v) for k, v in rows.items()} == before

    # One document per distinct content, with the articles and datelines expected of it.
    everything = [*good, slow]
    assert set(rows["documents"]) == {e.sha256 for e in everything}
    by_doc: dict[str, list[tuple[str, str | None, tuple[str, ...]]]] = {}
    for a in rows["articles"]:
        agencies = tuple(a["agencies"].split("/")) if a["agencies"] else ()
        by_doc.setdefault(a["sha256"], []).append((a["role"], a["place_raw"], agencies))
    for item in good:
        assert tuple(by_doc.get(item.sha256, [])) == item.articles, item.name
    assert len(by_doc[slow.sha256]) >= len(seeds[0].articles), "the slow file was stored complete"
    assert rows["documents"][slow.sha256]["size"] == len(slow.data)

    # Entities: exactly the mentions the NER finds in each file's articles, offsets pointing at their text.
    bodies = {a["id"]: a["body"] for a in rows["articles"]}
    for m in rows["mentions"]:
        assert bodies[m["article_id"]][m["start_offset"] : m["end_offset"]] == m["surface"]
    stored: dict[str, list[tuple[int, str, str, int, int]]] = {}
    for m in rows["mentions"]:
        stored.setdefault(m["sha256"], []).append(
            (m["seq"], m["label"], m["surface"], m["start_offset"], m["end_offset"])
        )
    for item in good:
        assert sorted(stored.get(item.sha256, [])) == expected_mentions(item), item.name
    for seed in seeds:
        assert stored.get(seed.sha256), f"no entity found in {seed.name}"

    # Broken files: in failed/ with their reason, and a failure row each.
    notes = {}
    for path in (spool / "failed").glob("*.error.json"):
        note = json.loads(path.read_text(encoding="utf-8"))
        notes[note["name"]] = (note["stage"], note["reason"])
    assert notes == {name: ("ingest", reason) for name, (_, reason) in BROKEN.items()}
    wait_until(
        lambda: len(_rows(pipeline.database_url)["failures"]) == len(BROKEN),
        "a failure row per broken file",
        timeout=FLOW_DEADLINE_SECONDS,
    )
    failures = _rows(pipeline.database_url)["failures"]
    assert sorted((f["name"], f["stage"], f["reason"]) for f in failures) == sorted(
        (name, "ingest", reason) for name, (_, reason) in BROKEN.items()
    )
    return rows

"""Bulk import of an existing folder through the inbox (``dropwire import``), at the pipeline's pace.

Files go into the inbox one by one (written as ``NAME.part``, renamed when complete, modification time
kept: relative times count back from it), never more than ``window`` in flight at once — in the inbox
or claimed in ``processing/`` (queued, being enriched or stored). The window defaults to the threshold
ingest holds the enrich queue to (``DROPWIRE_MAX_QUEUE_DEPTH``), so an import of any size keeps the
pipeline as busy as its own backpressure allows and no busier: never a flood, and the import's rate is
the rate at which the pipeline files documents away.

Resuming: every file handed to the inbox is recorded (by its sha256) in a ledger beside the spool,
``<spool>/.import/<key of the source folder>.jsonl``, one line per file after its rename. A second run
skips the bytes the ledger holds and the bytes the database has stored, so nothing is imported twice.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shared.readmodel.schema import documents
from shared.spool import Spool, is_candidate_name

LEDGER_DIR = ".import"
# While the inbox is full, it is looked at again this often: ingest claims in rounds of its poll
# interval (0.2 s by default); a shorter wait only burns a core the pipeline needs.
WAIT_SECONDS = 0.1
# Hashes are checked against the database this many at a time (far below any bound-parameter limit).
LOOKUP_CHUNK = 500
CHUNK_BYTES = 1 << 20


@dataclass
class Summary:
    imported: int = 0
    skipped: int = 0  # already stored, already imported by an earlier run, or the same bytes twice here
    failed: dict[str, str] = field(default_factory=dict)  # source path → reason
    interrupted: bool = False
    total: int = 0
    warning: str | None = None  # e.g. the database could not be asked what it has stored


def find_files(source: Path, *, recursive: bool, pattern: str) -> list[Path]:
    """The files to import, in a stable order (sorted by relative path); hidden and partial ones left out."""
    walker: Iterable[Path] = source.rglob("*") if recursive else source.iterdir()
    found = [
        p
        for p in walker
        if p.is_file()
        and is_candidate_name(p.name)
        and fnmatch.fnmatch(p.name, pattern)
        and not any(part.startswith(".") for part in p.relative_to(source).parts)
    ]
    return sorted(found, key=lambda p: str(p.relative_to(source)))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def stored_hashes(engine: Engine | None, shas: Iterable[str]) -> set[str]:
    """Which of ``shas`` the database has stored (none known without a database)."""
    if engine is None:
        return set()
    wanted = sorted(set(shas))
    found: set[str] = set()
    with engine.connect() as conn:
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[start : start + LOOKUP_CHUNK]
            found.update(
                conn.execute(sa.select(documents.c.sha256).where(documents.c.sha256.in_(chunk))).scalars()
            )
    return found


class Ledger:
    """The hashes an import of one source folder has handed to the inbox, kept across runs."""

    def __init__(self, spool_root: Path, source: Path) -> None:
        key = hashlib.sha256(str(source.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        self.path = spool_root / LEDGER_DIR / f"{key}.jsonl"
        self.done: set[str] = set()
        try:
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    self.done.add(json.loads(line)["sha256"])
                except (ValueError, KeyError, TypeError):
                    continue  # a line torn by a crash
        except FileNotFoundError:
            pass

    def add(self, sha: str, source: Path, name: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"sha256": sha, "source": os.fsdecode(source), "inbox": name}, ensure_ascii=False)
        with self.path.open("a", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write(line + "\n")
        self.done.add(sha)


def in_flight(spool: Spool) -> int:
    """Files dropped and not yet filed away: waiting in the inbox or claimed (queued, being enriched or
    stored) in processing/. The same count for ``dropwire run`` and the services, no broker needed."""
    total = 0
    for folder in (spool.inbox, spool.processing):
        with os.scandir(folder) as entries:
            total += sum(1 for e in entries if not e.name.startswith("."))
    return total


@dataclass
class Importer:
    spool: Spool
    source: Path
    window: int  # the most files in flight (inbox + processing/) at once
    engine: Engine | None = None
    move: bool = False
    stop: threading.Event = field(default_factory=threading.Event)
    progress: Callable[[Summary], None] = lambda _: None

    def plan(self, files: list[Path], summary: Summary) -> list[tuple[Path, str]]:
        """Hash every file and keep those whose bytes are neither stored, nor imported before, nor repeated."""
        ledger = self.ledger
        hashed: list[tuple[Path, str]] = []
        for path in files:
            if self.stop.is_set():
                break
            try:
                hashed.append((path, sha256_of(path)))
            except OSError as exc:
                summary.failed[os.fsdecode(path)] = f"unreadable: {exc.strerror or exc}"
        try:
            stored = stored_hashes(self.engine, (sha for _, sha in hashed))
        except sa.exc.SQLAlchemyError as exc:
            # Importing bytes already stored is harmless (the store keeps one copy): say so, go on.
            summary.warning = (
                f"database not asked what it has stored ({type(exc).__name__}); repeats may go in"
            )
            stored = set()
        seen = set(ledger.done) | stored
        todo = []
        for path, sha in hashed:
            if sha in seen:
                summary.skipped += 1
                continue
            seen.add(sha)
            todo.append((path, sha))
        return todo

    def run(self, files: list[Path]) -> Summary:
        summary = Summary(total=len(files))
        self.spool.ensure()
        self.ledger = Ledger(self.spool.root, self.source)
        todo = self.plan(files, summary)
        self.progress(summary)
        depth = in_flight(self.spool)
        for path, sha in todo:
            while depth >= self.window and not self.stop.is_set():
                self.stop.wait(WAIT_SECONDS)
                depth = in_flight(self.spool)
            if self.stop.is_set():
                summary.interrupted = True
                break
            try:
                name = self.put(path)
            except OSError as exc:
                summary.failed[os.fsdecode(path)] = f"{type(exc).__name__}: {exc.strerror or exc}"
            else:
                self.ledger.add(sha, path, name)
                summary.imported += 1
                depth += 1
            self.progress(summary)
        return summary

    def put(self, path: Path) -> str:
        """Copy (or move) one file into the inbox under a free name; the name it went in under."""
        rel = path.relative_to(self.source)
        name = "__".join(rel.parts)  # a sub-folder's files keep their folder in the name: no clashes
        target = self.free_name(name)
        partial = self.spool.inbox / (target + ".part")
        try:
            if self.move:
                try:
                    os.rename(path, partial)
                except OSError:  # another filesystem: copy, then remove the original
                    shutil.copy2(path, partial)
                    os.rename(partial, self.spool.inbox / target)
                    path.unlink()
                    return target
            else:
                shutil.copy2(path, partial)  # copy2 keeps the modification time
            os.rename(partial, self.spool.inbox / target)
        except BaseException:
            if not self.move:
                partial.unlink(missing_ok=True)
            raise
        return target

    def free_name(self, name: str) -> str:
        stem, dot, ext = name.partition(".")
        candidate, n = name, 1
        while os.path.lexists(self.spool.inbox / candidate):
            n += 1
            candidate = f"{stem}-{n}{dot}{ext}"
        return candidate

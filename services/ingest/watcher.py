"""Noticing complete files in the inbox: inotify events through watchdog, or size+mtime polling.

A file is complete when
* events mode: the kernel reported a rename into the inbox (``IN_MOVED_TO``: ``mv x.part x`` is the
  classic atomic drop), or close-after-write (``IN_CLOSE_WRITE``) followed by ``close_settle_seconds``
  with no further write and no size or mtime change: a writer that appends by reopening the file
  (one close-write per chunk) is not taken at its first chunk;
* poll mode (docker volumes, NFS: no inotify events cross them): its size and mtime stayed the same
  across ``settle_seconds``.

Files already in the inbox when ingest starts produce no events, so both modes scan at start-up and
judge those by settling. In events mode a slow rescan also catches files whose events were lost
(inotify queue overflow): only files nobody touched for ``RESCAN_SECONDS`` are taken that way, so a
writer that pauses is not cut short. ``auto`` uses events when inotify can be started, else polling.
"""

from __future__ import annotations

import os
import queue
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.api import BaseObserver

from shared.logging import get_logger
from shared.spool import is_candidate_name

log = get_logger(__name__)

Mode = Literal["auto", "events", "poll"]
# Events mode: how often to rescan for files whose events were lost, and how long such a file must
# have been left alone first (long next to any pause of a live writer, short next to the lease).
RESCAN_SECONDS = 30.0


@dataclass
class SettleTracker:
    """Says a file is complete once its (size, mtime) stayed unchanged for ``settle_seconds``."""

    settle_seconds: float
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, tuple[int, int, float]] = field(default_factory=dict)

    def observe(self, name: str, size: int, mtime_ns: int) -> bool:
        """Record one sighting; True when the file has been stable for the settle time."""
        now = self.clock()
        previous = self._seen.get(name)
        if previous is None or previous[:2] != (size, mtime_ns):
            self._seen[name] = (size, mtime_ns, now)
            return self.settle_seconds == 0
        return now - previous[2] >= self.settle_seconds

    def forget(self, name: str) -> None:
        self._seen.pop(name, None)

    def keep_only(self, names: set[str]) -> None:
        for name in set(self._seen) - names:
            del self._seen[name]

    def __contains__(self, name: str) -> bool:
        return name in self._seen


class _Events(FileSystemEventHandler):
    """Turns watchdog events for the inbox into (kind, name) items on a queue."""

    def __init__(self, inbox: Path, out: queue.Queue[tuple[str, str]]) -> None:
        self.inbox = inbox
        self.out = out

    def _name_in_inbox(self, path: str | bytes) -> str | None:
        p = Path(os.fsdecode(path))
        return p.name if p.parent == self.inbox and is_candidate_name(p.name) else None

    def on_closed(self, event: FileSystemEvent) -> None:
        if not event.is_directory and (name := self._name_in_inbox(event.src_path)):
            self.out.put(("closed", name))

    def on_moved(self, event: FileSystemEvent) -> None:
        if not event.is_directory and event.dest_path and (name := self._name_in_inbox(event.dest_path)):
            self.out.put(("complete", name))

    def on_created(self, event: FileSystemEvent) -> None:
        if not event.is_directory and (name := self._name_in_inbox(event.src_path)):
            self.out.put(("writing", name))

    def on_modified(self, event: FileSystemEvent) -> None:
        self.on_created(event)


@dataclass
class Notice:
    """What the watcher saw since the last call: names complete now."""

    complete: list[str]


class InboxWatcher:
    """Yields names of complete inbox files, by events or polling (see the module doc)."""

    def __init__(
        self,
        inbox: Path,
        *,
        mode: Mode,
        settle_seconds: float,
        poll_interval: float,
        close_settle_seconds: float = 0.0,
    ) -> None:
        self.inbox = inbox.resolve()
        self.close_settle_seconds = close_settle_seconds
        # Closed after writing, waiting out close_settle_seconds: name -> (deadline, size, mtime_ns).
        self._closed: dict[str, tuple[float, int, int]] = {}
        # When each inbox name was first seen by this watcher (event or scan), until it is claimed.
        self._first_seen: dict[str, datetime] = {}
        self.requested_mode = mode
        self.poll_interval = poll_interval
        self.tracker = SettleTracker(settle_seconds)
        self.mode: Literal["events", "poll"] = "poll"
        self._events: queue.Queue[tuple[str, str]] = queue.Queue()
        self._observer: BaseObserver | None = None
        self._startup: set[str] = set()
        self._next_rescan = 0.0

    def start(self) -> None:
        """Start inotify (events/auto) and note the files already present, to be judged by settling."""
        if self.requested_mode in ("auto", "events"):
            try:
                from watchdog.observers.inotify import InotifyObserver

                # Full events: a file moved in from an unwatched folder (``mv /elsewhere/x inbox/``) is
                # then a move with an empty source, not a "created" that never gets its close-write.
                observer = InotifyObserver(generate_full_events=True)
                # The whole spool is watched, not just the inbox: watchdog holds back a rename whose
                # other end it cannot see (an IN_MOVED_FROM without its IN_MOVED_TO) for 0.5 s, and
                # every later event queues behind it. Ingest's own claims (inbox/ -> processing/)
                # would then delay the next drop by up to half a second. Seen whole, they pair up.
                observer.schedule(_Events(self.inbox, self._events), str(self.inbox.parent), recursive=True)
                observer.start()
                self._observer = observer
                self.mode = "events"
            except (OSError, ImportError) as exc:
                if self.requested_mode == "events":
                    raise
                log.warning("watcher.events_unavailable", error=str(exc), fallback="poll")
        self._startup = {e.name for e in self._scan()}
        self._next_rescan = time.monotonic() + RESCAN_SECONDS
        log.info("watcher.started", mode=self.mode, inbox=str(self.inbox), present=len(self._startup))

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(5)
            self._observer = None

    def first_seen(self, name: str) -> datetime | None:
        """When this watcher first saw ``name`` in the inbox (forgotten once asked: it is claimed)."""
        return self._first_seen.pop(name, None)

    def poll(self, timeout: float) -> Notice:
        """Wait up to ``timeout`` for something to do; return the names complete now."""
        complete: list[str] = []
        if self._closed:
            timeout = max(0.0, min(timeout, min(d for d, _, _ in self._closed.values()) - time.monotonic()))
        try:
            kind, name = self._events.get(timeout=timeout if self.mode == "events" else 0)
            self._note(kind, name, complete)
            while True:
                kind, name = self._events.get_nowait()
                self._note(kind, name, complete)
        except queue.Empty:
            pass
        if self.mode == "poll":
            if not complete:
                time.sleep(timeout)
            entries = self._scan()
            self._forget_gone(entries)
            complete.extend(self._settled(entries))
        else:
            complete.extend(self._closed_and_settled())
            # Start-up files settle; later files wait for their close-write or moved-to event.
            if self._startup:
                entries = [e for e in self._scan() if e.name in self._startup]
                self._startup &= {e.name for e in entries}
                done = self._settled(entries)
                self._startup -= set(done)
                complete.extend(done)
            if time.monotonic() >= self._next_rescan:
                self._next_rescan = time.monotonic() + RESCAN_SECONDS
                cutoff = time.time() - RESCAN_SECONDS
                entries = self._scan()
                self._forget_gone(entries)
                complete.extend(e.name for e in entries if (_mtime(e) or cutoff) < cutoff)
        return Notice(complete=list(dict.fromkeys(complete)))

    def _forget_gone(self, entries: list[os.DirEntry[str]]) -> None:
        """First sightings of names no longer in the inbox (deleted, or taken by another replica)."""
        for name in set(self._first_seen) - {e.name for e in entries}:
            del self._first_seen[name]

    def _closed_and_settled(self) -> list[str]:
        """Closed-after-write files left alone for ``close_settle_seconds`` since: complete."""
        now = time.monotonic()
        done = []
        for name, (deadline, size, mtime_ns) in list(self._closed.items()):
            if now < deadline:
                continue
            try:
                st = os.lstat(self.inbox / name)
            except FileNotFoundError:
                del self._closed[name]
                continue
            if (st.st_size, st.st_mtime_ns) == (size, mtime_ns):
                del self._closed[name]
                done.append(name)
            else:  # written again without an event seen yet: wait once more
                self._closed[name] = (now + self.close_settle_seconds, st.st_size, st.st_mtime_ns)
        return done

    def _note(self, kind: str, name: str, complete: list[str]) -> None:
        if name not in self._first_seen:
            self._first_seen[name] = datetime.now(UTC)
        if kind == "closed" and self.close_settle_seconds > 0:
            self._startup.discard(name)
            self.tracker.forget(name)
            try:
                st = os.lstat(self.inbox / name)
            except FileNotFoundError:
                self._closed.pop(name, None)
                return
            deadline = time.monotonic() + self.close_settle_seconds
            self._closed[name] = (deadline, st.st_size, st.st_mtime_ns)
            return
        if kind in ("complete", "closed"):
            self._startup.discard(name)
            self.tracker.forget(name)
            self._closed.pop(name, None)
            complete.append(name)
            return
        # Being written after start-up: leave it to its close-write event. A symlink, FIFO or socket
        # never gets one: hand it over at once to be refused.
        self._startup.discard(name)
        self._closed.pop(name, None)
        try:
            mode = os.lstat(self.inbox / name).st_mode
        except FileNotFoundError:
            return
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
            complete.append(name)

    def _scan(self) -> list[os.DirEntry[str]]:
        try:
            entries = [
                e
                for e in os.scandir(self.inbox)
                if is_candidate_name(e.name) and not e.is_dir(follow_symlinks=False)
            ]
        except FileNotFoundError:
            return []
        now = datetime.now(UTC)
        for entry in entries:
            self._first_seen.setdefault(entry.name, now)
        return entries

    def _settled(self, entries: list[os.DirEntry[str]]) -> list[str]:
        done = []
        present = set()
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            present.add(entry.name)
            if self.tracker.observe(entry.name, st.st_size, st.st_mtime_ns):
                self.tracker.forget(entry.name)
                done.append(entry.name)
        self.tracker.keep_only(present | set(self._startup))
        return done


def _mtime(entry: os.DirEntry[str]) -> float | None:
    """An entry's mtime, or None if it vanished since the scan listed it."""
    try:
        return entry.stat(follow_symlinks=False).st_mtime
    except FileNotFoundError:
        return None

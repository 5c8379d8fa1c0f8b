"""Noticing complete files in the inbox: inotify events (``services.ingest.inotify``), or size+mtime polling.

A file is complete when
* events mode: the kernel reported a rename into the inbox (``IN_MOVED_TO``: ``mv x.part x`` is the
  classic atomic drop), or close-after-write (``IN_CLOSE_WRITE``) followed by ``close_settle_seconds``
  with no further write and no size or mtime change: a writer that appends by reopening the file
  (one close-write per chunk) is not taken at its first chunk;
* poll mode (docker volumes, NFS: no inotify events cross them): its size and mtime stayed the same
  across ``settle_seconds``.

Files already in the inbox when ingest starts produce no events, so both modes scan at start-up and
judge those by settling. In events mode a slow rescan also catches files whose events were lost:
only files nobody touched for ``RESCAN_SECONDS`` are taken that way, so a writer that pauses is not
cut short. When the kernel says it dropped events (its queue overflowed), or the inbox was removed and
made again, the files then present are judged by settling, as at start-up. ``auto`` uses events when
inotify can be started, else polling. The events are read in the caller's thread, when it polls.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from services.ingest import inotify
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
        self._inotify: inotify.Inotify | None = None
        self._startup: set[str] = set()
        self._next_rescan = 0.0

    def start(self) -> None:
        """Start inotify (events/auto) and note the files already present, to be judged by settling."""
        if self.requested_mode in ("auto", "events"):
            try:
                self._inotify = inotify.Inotify(self.inbox)
                self.mode = "events"
            except OSError as exc:
                if self.requested_mode == "events":
                    raise
                log.warning("watcher.events_unavailable", error=str(exc), fallback="poll")
        self._startup = {e.name for e in self._scan()}
        self._next_rescan = time.monotonic() + RESCAN_SECONDS
        log.info("watcher.started", mode=self.mode, inbox=str(self.inbox), present=len(self._startup))

    def stop(self) -> None:
        if self._inotify is not None:
            self._inotify.close()
            self._inotify = None

    def first_seen(self, name: str) -> datetime | None:
        """When this watcher first saw ``name`` in the inbox (forgotten once asked: it is claimed)."""
        return self._first_seen.pop(name, None)

    def poll(self, timeout: float) -> Notice:
        """Wait up to ``timeout`` for something to do; return the names complete now."""
        complete: list[str] = []
        if self._closed:
            timeout = max(0.0, min(timeout, min(d for d, _, _ in self._closed.values()) - time.monotonic()))
        if self._inotify is not None:
            self._read_events(self._inotify, timeout, complete)
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

    def _read_events(self, source: inotify.Inotify, timeout: float, complete: list[str]) -> None:
        """Note the inbox's events that came within ``timeout``; after lost events, settle what is there."""
        if not source.watching and not self._rewatch(source):
            time.sleep(timeout)
            return
        for mask, name in source.read(timeout):
            if mask & (inotify.IN_Q_OVERFLOW | inotify.IN_IGNORED):
                log.warning("watcher.events_lost", overflow=bool(mask & inotify.IN_Q_OVERFLOW))
                if source.watching:
                    self._startup |= {e.name for e in self._scan()}
                continue
            kind = _KINDS.get(mask & _KIND_MASK)
            if kind and not mask & inotify.IN_ISDIR and is_candidate_name(name):
                self._note(kind, name, complete)

    def _rewatch(self, source: inotify.Inotify) -> bool:
        """Watch the inbox again once it exists again; what it holds then is judged by settling."""
        try:
            source.watch()
        except OSError:
            return False
        self._startup |= {e.name for e in self._scan()}
        return True

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
        # never gets one: hand it over at once to be refused (it is seen created; a write to a file
        # already there needs no look).
        self._startup.discard(name)
        self._closed.pop(name, None)
        if kind == "written":
            return
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


# An inbox event's kind, as ``InboxWatcher._note`` takes it (each event is of one kind; others, such as
# an unmount's, are left to the IN_IGNORED that follows them).
_KIND_MASK = inotify.IN_CREATE | inotify.IN_MODIFY | inotify.IN_CLOSE_WRITE | inotify.IN_MOVED_TO
_KINDS = {
    inotify.IN_MOVED_TO: "complete",
    inotify.IN_CLOSE_WRITE: "closed",
    inotify.IN_CREATE: "writing",
    inotify.IN_MODIFY: "written",
}


def _mtime(entry: os.DirEntry[str]) -> float | None:
    """An entry's mtime, or None if it vanished since the scan listed it."""
    try:
        return entry.stat(follow_symlinks=False).st_mtime
    except FileNotFoundError:
        return None

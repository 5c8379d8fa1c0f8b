"""Claiming a file: one atomic rename from ``inbox/`` into ``processing/``, then reading it into a message.

The rename is the lock: of two ingest replicas racing for one file, exactly one rename succeeds and
the other sees ``FileNotFoundError``. Reading happens only after the claim, from the claimed path,
opened without following symlinks and refused unless it is a regular file: what was checked is
what is read.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shared.decoding import decode_bytes
from shared.errors import EmptyInput, NotARegularFile, TooLarge, UnreadableInput
from shared.messages import DocumentReceived
from shared.spool import Spool, new_claim_name, original_name


@dataclass(frozen=True)
class Entry:
    """What ``lstat`` says about one inbox entry (a symlink is described, never followed)."""

    name: str
    kind: str  # "file", "dir", "symlink", "other", "gone"
    size: int = 0
    mtime_ns: int = 0


def inspect(path: Path) -> Entry:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return Entry(path.name, "gone")
    if stat.S_ISREG(st.st_mode):
        return Entry(path.name, "file", st.st_size, st.st_mtime_ns)
    if stat.S_ISDIR(st.st_mode):
        return Entry(path.name, "dir")
    if stat.S_ISLNK(st.st_mode):
        return Entry(path.name, "symlink")
    return Entry(path.name, "other")


def claim(spool: Spool, name: str) -> str | None:
    """Rename ``inbox/name`` into ``processing/`` under a fresh claim name; None if someone else got it."""
    return _take(spool, name, "processing")


def refuse(spool: Spool, name: str) -> str | None:
    """Move a non-regular inbox entry (symlink, FIFO, socket) as it is into ``failed/``, unfollowed."""
    return _take(spool, name, "failed")


def _take(spool: Spool, name: str, folder: str) -> str | None:
    """Rename ``inbox/name`` (the entry itself, never what a link points at) into ``folder`` under a
    fresh claim name, atomically; None if it is gone (another ingest took it first)."""
    claim_name = new_claim_name(name)
    try:
        os.rename(spool.path("inbox", name), spool.path(folder, claim_name))
    except FileNotFoundError:
        return None
    return claim_name


def read_claimed(
    spool: Spool,
    claim_name: str,
    *,
    max_bytes: int,
    received_at: datetime,
    dropped_at: datetime | None = None,
) -> DocumentReceived:
    """Read, hash and decode a claimed file into the message for enrich.

    Raises a ``PermanentError`` (not regular, too large, empty, binary, undecodable, unreadable) when
    the file can never be processed. The message's ``mtime`` is ``dropped_at`` when known (a re-publish
    by the ingest that claimed it), else the file's modification time as found: after a lease was
    started that is the lease time, so latency measured from a re-published file's mtime is a lower bound.
    """
    path = spool.path("processing", claim_name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise  # filed away meanwhile (a late outcome): the caller leaves it alone
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotARegularFile("refusing to follow a symlink", claim=claim_name) from exc
        raise UnreadableInput(
            "could not open the claimed file", claim=claim_name, error=exc.strerror
        ) from exc
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise NotARegularFile("not a regular file", claim=claim_name)
        if st.st_size > max_bytes:
            raise TooLarge("file exceeds the size cap", size=st.st_size, max_bytes=max_bytes)
        if st.st_size == 0:
            raise EmptyInput("file is empty")
        try:
            data = fh.read(max_bytes + 1)
        except OSError as exc:
            raise UnreadableInput("could not read the claimed file", error=exc.strerror) from exc
    if len(data) > max_bytes:
        raise TooLarge("file grew beyond the size cap while being read", max_bytes=max_bytes)
    decoded = decode_bytes(data)
    return DocumentReceived(
        doc_id=hashlib.sha256(data).hexdigest(),
        claim=claim_name,
        name=original_name(claim_name),
        received_at=received_at,
        mtime=dropped_at or datetime.fromtimestamp(st.st_mtime, UTC),
        size=len(data),
        encoding=decoded.encoding,
        text=decoded.text,
    )


def touch_lease(spool: Spool, claim_name: str) -> None:
    """Start (or renew) a claimed file's lease: its mtime in ``processing/`` is when it was last published.

    Setting a file's times needs write access to it (or owning it): a file another user dropped with
    mode 0644 refuses. Ingest then adopts it: a copy of its own, the same bytes, replaces it atomically,
    so this lease and every later one can be set. The copy keeps the file's mode bits, plus the owner's
    write bit."""
    path = spool.path("processing", claim_name)
    try:
        os.utime(path)
    except PermissionError:
        adopt(path)


def adopt(path: Path) -> None:
    """Replace ``path`` with a copy owned by this process (same bytes, same mode + owner write; its
    mtime is now). A crash midway leaves the original in place and a dot-file the scans skip."""
    st = os.stat(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".adopt-")
    try:
        with open(path, "rb") as src, os.fdopen(fd, "wb") as dst:
            shutil.copyfileobj(src, dst, ADOPT_CHUNK_BYTES)
            os.fchmod(dst.fileno(), stat.S_IMODE(st.st_mode) | stat.S_IWUSR)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


ADOPT_CHUNK_BYTES = 1 << 20


def expired_leases(spool: Spool, *, lease_seconds: float, now: float) -> list[str]:
    """Claimed files whose lease ran out: published so long ago that their ingest must have died."""
    out = []
    try:
        entries = list(os.scandir(spool.processing))
    except FileNotFoundError:
        return []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            mtime = entry.stat(follow_symlinks=False).st_mtime
        except FileNotFoundError:
            continue
        if now - mtime >= lease_seconds:
            out.append(entry.name)
    return sorted(out)

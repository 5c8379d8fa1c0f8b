"""The kernel's inotify on one folder, read in the caller's own thread: (event mask, name) pairs.

Why not watchdog: its observer asks the kernel for every kind of event (opens, closes without
writing, attribute changes), so a watch had to cover the whole spool for it to pair up the claims'
renames out of the inbox, and each of those events then went through three Python threads (reader,
emitter, dispatcher) and a delay queue searched from the front for rename partners. Under a backlog
that took about half of ingest's CPU (``py-spy record --gil``, BENCHMARKS.md). Here one watch on
the inbox asks only for what says a file is there or being written, and the watcher reads the
events when it looks for work, in its own thread: no thread, no queue, no pairing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct

# <sys/inotify.h>
IN_MODIFY = 0x00000002
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000
IN_ISDIR = 0x40000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC

# What the inbox watch asks for: a file created, written, closed after writing, or renamed in.
INBOX_MASK = IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR
# struct inotify_event: int wd; uint32_t mask, cookie, len; char name[len] (NUL-padded).
_HEADER = struct.Struct("iIII")
# Read up to this much per call: room for hundreds of events, as the kernel queues them.
READ_BYTES = 64 * 1024

_libc: ctypes.CDLL | None = None


def _lib() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


class Inotify:
    """One inotify instance watching one folder; ``OSError`` from the constructor if inotify is not there."""

    def __init__(self, folder: str | os.PathLike[str], mask: int = INBOX_MASK) -> None:
        lib = _lib()
        fd = lib.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        self.fd: int = fd
        self.mask = mask
        self.folder = os.fsencode(folder)
        self.watching = False
        try:
            self.watch()
        except OSError:
            os.close(fd)
            raise
        self._poller = select.poll()
        self._poller.register(fd, select.POLLIN)

    def watch(self) -> None:
        """(Re)start the watch on the folder (after it was removed and made again)."""
        if _lib().inotify_add_watch(self.fd, self.folder, self.mask) < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), os.fsdecode(self.folder))
        self.watching = True

    def read(self, timeout: float) -> list[tuple[int, str]]:
        """Events waiting now, or within ``timeout`` seconds; ``[]`` if none came.

        An overflow (events lost) comes as ``(IN_Q_OVERFLOW, "")``; the folder's removal as
        ``(IN_IGNORED, "")``, after which nothing more comes until ``watch`` is called again.
        """
        if not self._poller.poll(max(0, int(timeout * 1000))):
            return []
        try:
            data = os.read(self.fd, READ_BYTES)
        except BlockingIOError:
            return []
        events = []
        offset, size = 0, len(data)
        while offset < size:
            _, mask, _, length = _HEADER.unpack_from(data, offset)
            offset += _HEADER.size
            name = os.fsdecode(data[offset : offset + length].rstrip(b"\0"))
            offset += length
            if mask & IN_IGNORED:
                self.watching = False
            events.append((mask, name))
        return events

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

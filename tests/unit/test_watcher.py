"""The inbox watcher in events mode: complete files are reported as soon as the kernel says so."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from services.ingest.watcher import InboxWatcher

pytestmark = pytest.mark.unit

# A drop must be reported at once (watchdog, used before, held an unpaired rename for 0.5 s).
PROMPT_SECONDS = 0.4


def _spool(tmp_path: Path) -> tuple[Path, Path]:
    inbox, processing = tmp_path / "inbox", tmp_path / "processing"
    inbox.mkdir()
    processing.mkdir()
    return inbox, processing


def _drop(inbox: Path, name: str) -> None:
    part = inbox / f".{name}.part"
    part.write_text("AMSTERDAM (ANP) - Tekst.\n")
    os.rename(part, inbox / name)


def _wait_for(watcher: InboxWatcher, name: str, within: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < within:
        if name in watcher.poll(0.05).complete:
            return time.monotonic() - start
    raise AssertionError(f"{name} not reported within {within} s")


def test_a_drop_right_after_a_claim_is_not_held_back(tmp_path: Path) -> None:
    """Moving a claimed file out of the inbox must not delay the report of the next drop."""
    inbox, processing = _spool(tmp_path)
    watcher = InboxWatcher(inbox, mode="events", settle_seconds=1.0, poll_interval=0.05)
    watcher.start()
    try:
        _drop(inbox, "first.txt")
        _wait_for(watcher, "first.txt", within=5.0)
        os.rename(inbox / "first.txt", processing / "abc__first.txt")  # what a claim does
        _drop(inbox, "second.txt")
        _wait_for(watcher, "second.txt", within=PROMPT_SECONDS)
    finally:
        watcher.stop()


def test_files_written_in_other_spool_folders_are_not_reported(tmp_path: Path) -> None:
    """Only the inbox's files are candidates, not files written in the folders beside it."""
    inbox, processing = _spool(tmp_path)
    watcher = InboxWatcher(inbox, mode="events", settle_seconds=1.0, poll_interval=0.05)
    watcher.start()
    try:
        (processing / "elsewhere.txt").write_text("x")
        _drop(inbox, "mine.txt")
        seen: list[str] = []
        deadline = time.monotonic() + 2.0
        while "mine.txt" not in seen and time.monotonic() < deadline:
            seen += watcher.poll(0.05).complete
        assert seen == ["mine.txt"]
    finally:
        watcher.stop()


def test_an_inbox_removed_and_made_again_is_watched_again(tmp_path: Path) -> None:
    """After the inbox folder is removed and created anew, files dropped into it are still reported."""
    inbox, _ = _spool(tmp_path)
    watcher = InboxWatcher(inbox, mode="events", settle_seconds=0.1, poll_interval=0.05)
    watcher.start()
    try:
        inbox.rmdir()
        watcher.poll(0.2)  # reads the watch's end
        inbox.mkdir()
        _drop(inbox, "after.txt")
        _wait_for(watcher, "after.txt", within=5.0)
    finally:
        watcher.stop()


def test_a_symlink_is_reported_at_once(tmp_path: Path) -> None:
    """A symlink never gets a close-write: it is handed over as soon as it appears, to be refused."""
    inbox, _ = _spool(tmp_path)
    watcher = InboxWatcher(inbox, mode="events", settle_seconds=5.0, poll_interval=0.05)
    watcher.start()
    try:
        (inbox / "link.txt").symlink_to(tmp_path / "elsewhere")
        _wait_for(watcher, "link.txt", within=PROMPT_SECONDS)
    finally:
        watcher.stop()


def test_a_file_still_open_after_a_close_write_is_not_reported(tmp_path: Path) -> None:
    """A writer that reopens its file after a close-write holds it back until its next close."""
    inbox, _ = _spool(tmp_path)
    watcher = InboxWatcher(
        inbox, mode="events", settle_seconds=5.0, poll_interval=0.05, close_settle_seconds=0.2
    )
    watcher.start()
    try:
        path = inbox / "slow.txt"
        path.write_text("first chunk\n")
        with path.open("a") as fh:
            fh.write("second chunk\n")
            fh.flush()
            seen: list[str] = []
            deadline = time.monotonic() + 0.6
            while time.monotonic() < deadline:
                seen += watcher.poll(0.05).complete
            assert seen == []
        _wait_for(watcher, "slow.txt", within=2.0)
    finally:
        watcher.stop()

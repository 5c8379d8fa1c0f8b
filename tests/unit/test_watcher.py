"""The inbox watcher in events mode: complete files are reported as soon as the kernel says so."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from services.ingest.watcher import InboxWatcher

pytestmark = pytest.mark.unit

# watchdog holds an unpaired rename for 0.5 s; a drop must be reported well before that.
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
    """Only the inbox's files are candidates, though the whole spool is watched."""
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

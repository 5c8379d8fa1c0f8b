"""Claiming: one rename wins, what is read is the claimed regular file, bad input says why."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.ingest import claim as claims
from services.ingest.watcher import SettleTracker
from shared.errors import BinaryInput, EmptyInput, NotARegularFile, TooLarge
from shared.spool import Spool, original_name

pytestmark = pytest.mark.unit

PAGE = b"Kop van het stuk\nUTRECHT (ANP) - Een korte tekst over niets in het bijzonder.\n"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    s = Spool(tmp_path / "spool")
    s.ensure()
    return s


def test_only_one_of_two_claims_of_a_file_succeeds(spool: Spool) -> None:
    """The atomic rename is the lock: a second claimer finds the file gone."""
    (spool.inbox / "a.txt").write_bytes(PAGE)
    first = claims.claim(spool, "a.txt")
    second = claims.claim(spool, "a.txt")
    assert first is not None and second is None
    assert original_name(first) == "a.txt"
    assert [p.name for p in spool.processing.iterdir()] == [first]


def test_claimed_file_becomes_a_message_with_its_hash(spool: Spool) -> None:
    """The message carries the content sha256, the original name, size, encoding and decoded text."""
    (spool.inbox / "a.txt").write_bytes(PAGE)
    claim_name = claims.claim(spool, "a.txt")
    assert claim_name is not None
    message = claims.read_claimed(spool, claim_name, max_bytes=1000, received_at=NOW)
    assert message.doc_id == hashlib.sha256(PAGE).hexdigest()
    assert (message.name, message.claim, message.size) == ("a.txt", claim_name, len(PAGE))
    assert message.encoding == "utf-8"
    assert message.text == PAGE.decode()


@pytest.mark.parametrize(
    ("data", "error"),
    [(b"", EmptyInput), (b"\x89PNG\r\n\x1a\n" + bytes(100), BinaryInput), (b"x" * 2000, TooLarge)],
)
def test_bad_input_raises_a_permanent_error_with_its_reason(spool: Spool, data: bytes, error: type) -> None:
    """Empty, binary and too-large files are refused with their own reason code."""
    (spool.processing / "abcd1234__bad.txt").write_bytes(data)
    with pytest.raises(error):
        claims.read_claimed(spool, "abcd1234__bad.txt", max_bytes=1000, received_at=NOW)


def test_a_symlink_is_described_not_followed(spool: Spool, tmp_path: Path) -> None:
    """An inbox symlink shows up as a symlink (to be refused), and reading one through a claim fails."""
    target = tmp_path / "elsewhere.txt"
    target.write_bytes(PAGE)
    os.symlink(target, spool.inbox / "link.txt")
    assert claims.inspect(spool.inbox / "link.txt").kind == "symlink"
    os.symlink(target, spool.processing / "abcd1234__link.txt")
    with pytest.raises(NotARegularFile):
        claims.read_claimed(spool, "abcd1234__link.txt", max_bytes=1000, received_at=NOW)


def test_refused_entries_move_to_failed_unfollowed(spool: Spool, tmp_path: Path) -> None:
    """Refusing a symlink moves the link itself; its target is untouched."""
    target = tmp_path / "elsewhere.txt"
    target.write_bytes(PAGE)
    os.symlink(target, spool.inbox / "link.txt")
    refused = claims.refuse(spool, "link.txt")
    assert refused is not None
    assert (spool.failed / refused).is_symlink()
    assert target.read_bytes() == PAGE


def test_expired_leases_are_the_files_published_too_long_ago(spool: Spool) -> None:
    """A claimed file whose lease time passed is due for re-publishing; a fresh one is not."""
    (spool.processing / "aaaa1111__old.txt").write_bytes(PAGE)
    (spool.processing / "bbbb2222__new.txt").write_bytes(PAGE)
    os.utime(spool.processing / "aaaa1111__old.txt", (1000.0, 1000.0))
    claims.touch_lease(spool, "bbbb2222__new.txt")
    now = (spool.processing / "bbbb2222__new.txt").stat().st_mtime
    assert claims.expired_leases(spool, lease_seconds=60, now=now) == ["aaaa1111__old.txt"]


def test_settling_needs_an_unchanged_size_and_mtime_for_the_settle_time() -> None:
    """A file is complete only after the same (size, mtime) was seen across the settle interval."""
    now = [0.0]
    tracker = SettleTracker(1.0, clock=lambda: now[0])
    assert tracker.observe("a", 10, 1) is False
    now[0] = 0.6
    assert tracker.observe("a", 20, 2) is False  # still growing: the clock restarts
    now[0] = 1.2
    assert tracker.observe("a", 20, 2) is False
    now[0] = 1.7
    assert tracker.observe("a", 20, 2) is True


# What a service user lacks: writing another user's file, reading past its mode, owning it.
_NOT_ROOT_FOR_FILES = "-dac_override,-dac_read_search,-fowner"


def test_a_file_another_user_dropped_is_adopted_for_its_lease(tmp_path: Path) -> None:
    """An operator's file (their uid, mode 0644) cannot have its times set by the service user: ingest
    replaces it with a copy of its own, same bytes and mode, so the lease and every renewal work (it
    failed as `internal` before, found by starting the compose stack)."""
    import shutil
    import subprocess
    import sys

    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root (to give the file to another uid) and setpriv (to drop root's file rights)")
    spool = Spool(tmp_path)
    spool.processing.mkdir(parents=True)
    path = spool.processing / "000001_abc_pagina.txt"
    data = b"GRONINGEN (ANP) - Een regel.\n" * 1000
    path.write_bytes(data)
    os.chown(path, 4242, 4242)
    os.chmod(path, 0o644)
    os.utime(path, (1_000_000, 1_000_000))
    code = (
        "import sys; from pathlib import Path; from shared.spool import Spool; "
        "from services.ingest.claim import touch_lease; touch_lease(Spool(Path(sys.argv[1])), sys.argv[2])"
    )
    subprocess.run(
        [setpriv, f"--bounding-set={_NOT_ROOT_FOR_FILES}", f"--inh-caps={_NOT_ROOT_FOR_FILES}",
         sys.executable, "-c", code, str(tmp_path), path.name],
        check=True, cwd=Path(__file__).resolve().parents[2], capture_output=True,
    )  # fmt: skip
    st = path.stat()
    assert path.read_bytes() == data
    assert (st.st_uid, oct(st.st_mode & 0o777)) == (0, oct(0o644))
    assert st.st_mtime > 1_000_000  # the lease started
    assert [p.name for p in spool.processing.iterdir()] == [path.name]  # no copy left behind

"""No name from a file, a message or the command line becomes a path outside its spool folder; every
claim name is one the filesystem accepts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.spool import (
    CLAIM_MAX_BYTES,
    ERROR_SUFFIX,
    NAME_MAX_BYTES,
    Spool,
    UnsafeName,
    escape_name,
    inbox_name,
    is_claim_name,
    new_claim_name,
    original_name,
    unescape_name,
)

pytestmark = pytest.mark.unit

ESCAPES = [
    "../x.txt",
    "../../etc/passwd",
    "/etc/passwd",
    "a\x00b.txt",
    "..",
    ".",
    "sub/x.txt",
    "",
]


@pytest.mark.parametrize("name", ESCAPES)
@pytest.mark.parametrize("folder", ["inbox", "processing", "archive", "failed"])
def test_a_name_that_would_leave_its_folder_is_refused(tmp_path: Path, folder: str, name: str) -> None:
    """Separators, ``..``, absolute paths, NUL and empty names raise UnsafeName instead of becoming paths."""
    spool = Spool(tmp_path)
    spool.ensure()
    with pytest.raises(UnsafeName):
        spool.path(folder, name)


@pytest.mark.parametrize("claim", ["abcd1234__../../x.txt", "../x.txt", "abcd1234__/etc/passwd"])
def test_failed_retry_refuses_a_claim_that_would_leave_failed(tmp_path: Path, claim: str) -> None:
    """`dropwire failed retry NAME` with a path-like NAME moves nothing anywhere."""
    spool = Spool(tmp_path / "spool")
    spool.ensure()
    outside = tmp_path / "x.txt"
    outside.write_text("blijf")
    with pytest.raises(UnsafeName):
        spool.retry_failed(claim)
    assert outside.read_text() == "blijf"
    assert list(spool.inbox.iterdir()) == []


@pytest.mark.parametrize(
    "name",
    ["a.txt", "x" * 245, "x" * 246, "x" * 251 + ".txt", "é" * 125 + ".txt", "y" * 240 + "." + "z" * 14],
)
def test_every_claim_name_fits_the_filesystem_and_keeps_what_it_can(name: str) -> None:
    """A claim is at most NAME_MAX_BYTES; a name that fits keeps its original intact, a longer one keeps
    its start and extension with ``~`` where the cut was."""
    claim = new_claim_name(name)
    assert len(os.fsencode(claim + ERROR_SUFFIX)) <= NAME_MAX_BYTES
    kept = original_name(claim)
    if len(os.fsencode(name)) <= CLAIM_MAX_BYTES - 10:
        assert kept == name
    else:
        ext = os.path.splitext(name)[1]
        assert "~" in kept and name.startswith(kept.partition("~")[0])
        if len(ext) <= (NAME_MAX_BYTES - 10) // 2:
            assert kept.endswith("~" + ext)


def test_a_backslash_is_a_plain_name_in_the_inbox_but_never_in_a_claim(tmp_path: Path) -> None:
    """Linux allows ``\\`` in a name: the inbox takes it; claims carry it escaped, and elsewhere it is refused."""
    spool = Spool(tmp_path)
    spool.ensure()
    assert spool.path("inbox", "back\\slash.txt").name == "back\\slash.txt"
    claim = new_claim_name("back\\slash.txt")
    assert "\\" not in claim and original_name(claim) == "back%5Cslash.txt"
    assert inbox_name(claim) == "back\\slash.txt"
    with pytest.raises(UnsafeName):
        spool.path("failed", "a\\b.txt")


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("MÜNCHEN nieuws 'gisteren'.txt", "MÜNCHEN nieuws 'gisteren'.txt"),
        ("bad\udcffname.txt", "bad%FFname.txt"),
        ("50%off.txt", "50%25off.txt"),
        ("line\nbreak.txt", "line%0Abreak.txt"),
        ("evil\u202etxt.exe", "evil%E2%80%AEtxt.exe"),
        ("notes.error.json", "notes%2Eerror.json"),
    ],
)
def test_names_are_shown_escaped_and_ordinary_names_unchanged(name: str, shown: str) -> None:
    """Raw bytes, controls, bidi overrides, ``%`` and an error-note ending are escaped; Dutch names are not."""
    assert escape_name(name) == shown
    assert unescape_name(shown) == name


# Names as Linux allows them: any bytes but "/" and NUL, up to NAME_MAX, not "." or "..".
raw_names = st.binary(min_size=1, max_size=NAME_MAX_BYTES).filter(
    lambda b: b"/" not in b and b"\x00" not in b and b not in (b".", b"..")
)


@settings(max_examples=400, deadline=None)
@given(raw=raw_names)
def test_every_name_linux_allows_escapes_reversibly_into_a_claim_that_fits(raw: bytes) -> None:
    """Any byte sequence gives a claim that is valid UTF-8, fits NAME_MAX with its note, and gives the
    original back when it was not shortened."""
    name = os.fsdecode(raw)
    escaped = escape_name(name)
    escaped.encode("utf-8")  # valid text: a message, a log line and a database row can carry it
    assert unescape_name(escaped) == name
    claim = new_claim_name(name)
    assert is_claim_name(claim)
    assert len(os.fsencode(claim + ERROR_SUFFIX)) <= NAME_MAX_BYTES
    if "~" not in original_name(claim) or len(escaped.encode()) <= CLAIM_MAX_BYTES - 10:
        assert inbox_name(claim) == name


@settings(max_examples=100, deadline=None)
@given(raw=raw_names.filter(lambda b: not b.startswith(b".")))  # dotfiles are never claimed
def test_a_failed_file_of_any_name_is_listed_noted_and_retried(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes
) -> None:
    """Whatever its name, a failed file is one entry of ``failed_entries`` with its note, and a retry
    puts it back into the inbox under a name that fits."""
    spool = Spool(tmp_path_factory.mktemp("spool"))
    spool.ensure()
    name = os.fsdecode(raw)
    claim = new_claim_name(name)
    (spool.failed / claim).write_bytes(b"x")
    spool.write_error(claim, stage="enrich", reason="parse_error", detail="d", doc_id=None)
    entries = spool.failed_entries()
    assert [e["claim"] for e in entries] == [claim] and entries[0]["reason"] == "parse_error"
    assert spool.counts()["failed"] == 1
    target = spool.retry_failed(claim)
    assert target.parent == spool.inbox and target.exists()
    assert list(spool.failed.iterdir()) == []


def test_a_failed_file_named_like_a_note_is_still_listed(tmp_path: Path) -> None:
    """A file in failed/ whose own name ends in .error.json (an older claim) is listed and counted."""
    spool = Spool(tmp_path)
    spool.ensure()
    claim = "abcd1234__x.error.json"
    (spool.failed / claim).write_text("x")
    spool.write_error(claim, stage="ingest", reason="empty", detail=None, doc_id=None)
    assert [e["claim"] for e in spool.failed_entries()] == [claim]
    assert spool.counts()["failed"] == 1

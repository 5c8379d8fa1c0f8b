"""No name from a file, a message or the command line becomes a path outside its spool folder; every
claim name is one the filesystem accepts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.ingest.spool import NAME_MAX_BYTES, Spool, UnsafeName, new_claim_name, original_name

pytestmark = pytest.mark.unit

ESCAPES = [
    "../x.txt",
    "../../etc/passwd",
    "/etc/passwd",
    "a\x00b.txt",
    "..",
    ".",
    "sub/x.txt",
    "a\\b.txt",
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
    assert len(os.fsencode(claim)) <= NAME_MAX_BYTES
    kept = original_name(claim)
    if len(os.fsencode(name)) <= NAME_MAX_BYTES - 10:
        assert kept == name
    else:
        ext = os.path.splitext(name)[1]
        assert "~" in kept and name.startswith(kept.partition("~")[0])
        if len(ext) <= (NAME_MAX_BYTES - 10) // 2:
            assert kept.endswith("~" + ext)

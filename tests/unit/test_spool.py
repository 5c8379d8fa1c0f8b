"""The spool's names and folders: nothing from outside may leave its folder, claim names keep the original."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.spool import (
    Spool,
    UnsafeName,
    is_candidate_name,
    new_claim_name,
    original_name,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", ["../etc/passwd", "a/b", "..", ".", "", ".hidden", "x\x00y", "a\\b"])
def test_names_that_would_leave_a_folder_are_refused(tmp_path: Path, name: str) -> None:
    """A claim taken from a message or the command line cannot point outside its spool folder."""
    spool = Spool(tmp_path)
    with pytest.raises(UnsafeName):
        spool.path("processing", name)


def test_plain_names_stay_inside_their_folder(tmp_path: Path) -> None:
    """A plain name resolves to a direct child of the folder asked for."""
    spool = Spool(tmp_path)
    assert spool.path("archive", "abc12345__nieuws 1.txt") == tmp_path / "archive" / "abc12345__nieuws 1.txt"


def test_claim_names_are_unique_and_keep_the_original() -> None:
    """Two claims of one name differ, and both give back the name the file was dropped under."""
    first, second = new_claim_name("pagina.txt"), new_claim_name("pagina.txt")
    assert first != second
    assert original_name(first) == original_name(second) == "pagina.txt"
    assert original_name("zonder-claim.txt") == "zonder-claim.txt"


@pytest.mark.parametrize(
    ("name", "wanted"),
    [("a.txt", True), ("nieuws", True), (".a.txt", False), ("a.txt.part", False), ("a.tmp", False)],
)
def test_hidden_and_partial_names_are_not_candidates(name: str, wanted: bool) -> None:
    """Dotfiles and *.part/*.tmp are left alone until renamed."""
    assert is_candidate_name(name) is wanted


def test_counts_per_folder_ignore_error_notes(tmp_path: Path) -> None:
    """Folder counts say how many files sit in each state, not how many notes."""
    spool = Spool(tmp_path)
    spool.ensure()
    (spool.inbox / "a.txt").write_text("x")
    (spool.failed / "abcd1234__b.txt").write_text("y")
    spool.write_error("abcd1234__b.txt", stage="ingest", reason="empty", detail="file is empty", doc_id=None)
    assert spool.counts() == {"inbox": 1, "processing": 0, "archive": 0, "failed": 1}


def test_error_note_says_stage_reason_time_and_doc(tmp_path: Path) -> None:
    """NAME.error.json carries the stage, reason, time and doc id, and failed list shows them."""
    spool = Spool(tmp_path)
    spool.ensure()
    (spool.failed / "abcd1234__b.txt").write_text("y")
    spool.write_error(
        "abcd1234__b.txt", stage="enrich", reason="parse_error", detail="no article", doc_id="0" * 64
    )
    [entry] = spool.failed_entries()
    assert entry["claim"] == "abcd1234__b.txt"
    assert entry["name"] == "b.txt"
    assert (entry["stage"], entry["reason"], entry["doc_id"]) == ("enrich", "parse_error", "0" * 64)
    assert entry["time"]


def test_retry_moves_a_failed_file_back_under_its_original_name(tmp_path: Path) -> None:
    """failed retry puts the file back in the inbox as dropped and removes its note."""
    spool = Spool(tmp_path)
    spool.ensure()
    (spool.failed / "abcd1234__b.txt").write_text("y")
    spool.write_error("abcd1234__b.txt", stage="ingest", reason="empty", detail=None, doc_id=None)
    target = spool.retry_failed("abcd1234__b.txt")
    assert target == spool.inbox / "b.txt"
    assert sorted(p.name for p in spool.failed.iterdir()) == []

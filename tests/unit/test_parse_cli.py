"""`dropwire parse`: JSON for one or many files, a readable summary, a one-line reason for bad files."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dropwire.cli import app
from services.enrich.parser import PARSER_VERSION

pytestmark = pytest.mark.unit

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["parse", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_for_one_file_has_the_documented_fields() -> None:
    """One file with --json prints one object with file facts and the articles."""
    path = PAGES / "standard_cp1252_crlf.txt"
    code, out, _ = run(str(path), "--json", "--received-at", "2026-03-01T12:00:00Z")
    assert code == 0
    page = json.loads(out)
    assert page["doc_id"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert {k: page[k] for k in ("name", "encoding", "line_endings", "trailing_newline", "section")} == {
        "name": "standard_cp1252_crlf.txt",
        "encoding": "cp1252",
        "line_endings": "CRLF",
        "trailing_newline": False,
        "section": "Buitenland",
    }
    assert page["page_lines"] == ["Meer uit Buitenland"]
    assert page["parser_version"] == PARSER_VERSION
    first, second = page["articles"][:2]
    assert first["dateline"] == {
        "place": "KYIV",
        "agencies": ["ANP", "RTR"],
        "resolved": {"name": "Kyiv", "country": "UA", "lat": 50.4547, "lon": 30.5238},
        "stamp": None,
    }
    assert (page["warnings"], page["truncated"]) == ([], False)
    assert (first["seq"], first["role"], first["published_at"]) == (0, "main", None)
    assert {e["label"] for e in first["entities"]} <= {"PER", "LOC", "ORG", "MISC"}
    assert (second["relative_time"], second["published_at"]) == ("12 minuten geleden", "2026-03-01T11:48:00Z")


def test_received_at_defaults_to_the_file_mtime(tmp_path: Path) -> None:
    """Without --received-at, relative times count back from the file's modification time."""
    path = tmp_path / "page.txt"
    path.write_bytes((PAGES / "older_layout.txt").read_bytes())
    moment = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    os.utime(path, (moment.timestamp(), moment.timestamp()))
    code, out, _ = run(str(path), "--json")
    assert code == 0
    page = json.loads(out)
    assert page["received_at"] == "2026-05-04T10:00:00+00:00"
    assert page["articles"][1]["published_at"] == "2026-05-04T09:15:00Z"


def test_several_files_give_one_json_object_per_line() -> None:
    """With several files, --json prints JSON Lines in argument order."""
    names = ["main_only_utf8_bom.txt", "no_headline_utf16_crlf.txt"]
    code, out, _ = run(*(str(PAGES / n) for n in names), "--json")
    assert code == 0
    assert [json.loads(line)["name"] for line in out.splitlines()] == names


def test_readable_summary_names_articles_and_datelines() -> None:
    """Without --json the summary shows each article's role, dateline, resolved place and time."""
    code, out, _ = run(str(PAGES / "older_layout.txt"), "--received-at", "2026-03-01T12:00:00Z")
    assert code == 0
    assert "section: Binnenland" in out
    assert "[1] brief  DOMBURG = Domburg, NL  45 minuten geleden = 2026-03-01T11:15:00Z" in out


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        ("Oekraïne".encode() * 3 + b"\xff", "undecodable"),
    ],
)
def test_bad_file_exits_non_zero_with_a_one_line_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    """A file that cannot be decoded fails with exit code 1 and one stderr line naming the reason."""
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    code, out, err = run(str(path), "--json")
    assert code == 1 and out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"error: {path}: {reason}:")


def test_missing_file_is_reported_and_the_others_still_parsed(tmp_path: Path) -> None:
    """An unreadable file is reported on stderr; the good files are still printed; exit code 1."""
    code, out, err = run(str(tmp_path / "nope.txt"), str(PAGES / "main_only_utf8_bom.txt"), "--json")
    assert code == 1
    assert "cannot read" in err and "nope.txt" in err
    assert json.loads(out)["name"] == "main_only_utf8_bom.txt"


def test_bad_received_at_is_a_usage_error() -> None:
    """--received-at that is not ISO 8601 is refused before any file is read."""
    code, _, err = run(str(PAGES / "main_only_utf8_bom.txt"), "--received-at", "gisteren")
    assert code == 2
    assert "ISO 8601" in err


def test_json_marks_subheads_in_the_body_blocks() -> None:
    """Each article's blocks list its paragraphs and subheads in order, subheads marked as such."""
    code, out, _ = run(str(PAGES / "correction_version_subheads_trailer_cr.txt"), "--json")
    assert code == 0
    (article,) = json.loads(out)["articles"]
    assert [block["kind"] for block in article["blocks"]] == [
        "paragraph", "paragraph", "subhead", "paragraph", "subhead", "paragraph"
    ]  # fmt: skip
    assert "\n".join(block["text"] for block in article["blocks"]) == article["body"]
    assert (article["headline_version"], article["trailer"]) == (
        2,
        "(ANP Redactie Binnenland, tel. 088-1234567)",
    )


def test_installed_console_script_runs_parse() -> None:
    """The installed `dropwire` script runs `parse --json` as an operator would type it."""
    import subprocess
    import sys

    script = Path(sys.executable).parent / "dropwire"
    if not script.exists():
        pytest.fail(f"the console script is not installed beside {sys.executable}: run make install")
    done = subprocess.run(
        [str(script), "parse", str(PAGES / "older_layout.txt"), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert [a["role"] for a in json.loads(done.stdout)["articles"]] == ["main"] + ["brief"] * 4


def test_json_lists_each_articles_entities_with_offsets_into_its_body() -> None:
    """parse --json runs the NER model too: every entity's offsets point at its text in the body."""
    path = PAGES / "main_only_utf8_bom.txt"
    code, out, _ = run(str(path), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["model_version"].startswith("nl_dropwire_ner-")
    entities = [(a["body"], e) for a in result["articles"] for e in a["entities"]]
    assert entities
    for body, entity in entities:
        assert body[entity["start"] : entity["end"]] == entity["text"]
        assert entity["label"] in ("PER", "LOC", "ORG", "MISC") and entity["name"]


def test_no_entities_skips_the_model() -> None:
    """--no-entities gives the parse alone: empty entity lists and no model version."""
    code, out, _ = run(str(PAGES / "main_only_utf8_bom.txt"), "--json", "--no-entities")
    assert code == 0
    result = json.loads(out)
    assert result["model_version"] is None
    assert all(a["entities"] == [] for a in result["articles"])


def test_summary_shows_byline_truncation_and_warnings() -> None:
    """The readable summary names the byline, the absolute time, a truncated article and each warning."""
    code, out, _ = run(
        str(PAGES / "site_boilerplate_byline_cp1252_crlf.txt"),
        str(PAGES / "truncated_last_item.txt"),
        "--no-entities",
        "--received-at",
        "2017-10-14T12:00:00Z",
    )
    assert code == 0
    assert "byline: Door ANP - 5-1-2017, 17:26 (Update 5-1-2017, 18:02)" in out
    assert "[0] main   DEN HAAG = The Hague, NL  2017-01-05T16:26:00Z" in out
    assert "(truncated)" in out
    assert "warning: truncated ([2]): De universiteit van Tilburg opent volgend jaar een nieuwe" in out

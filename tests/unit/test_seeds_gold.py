"""`dropwire parse --json` on the two seed pages matches their gold parses field for field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dropwire.cli import app

pytestmark = pytest.mark.unit

SEEDS = ("000_3a5384618f97d6c2", "004_fa861dc2add2c3f6")


def first_words(text: str, count: int = 8) -> str:
    return " ".join(text.split()[:count])


@pytest.mark.parametrize("seed", SEEDS)
def test_parse_json_matches_gold(seeds_dir: Path, seed: str) -> None:
    """Every article's role, headline, dateline place, agencies, relative time and opening words match gold."""
    gold = json.loads((seeds_dir / "gold" / f"{seed}.json").read_text(encoding="utf-8"))
    result = CliRunner().invoke(
        app, ["parse", str(seeds_dir / f"{seed}.txt"), "--json", "--received-at", "2026-03-01T12:00:00+01:00"]
    )
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)

    assert got["encoding"] == gold["encoding"]
    assert got["line_endings"] == gold["line_endings"]
    assert got["trailing_newline"] == gold["trailing_newline"]
    assert got["section"] == gold["section"]
    assert len(got["articles"]) == len(gold["articles"])
    for article, expected in zip(got["articles"], gold["articles"], strict=True):
        assert {
            "role": article["role"],
            "headline": article["headline"],
            "dateline_place": article["dateline"]["place"],
            "agencies": article["dateline"]["agencies"],
            "relative_time": article["relative_time"],
            "first_8_words": first_words(article["body"]),
        } == {
            key: expected[key]
            for key in ("role", "headline", "dateline_place", "agencies", "relative_time", "first_8_words")
        }
        if "subheads" in expected:
            assert article["subheads"] == expected["subheads"]


@pytest.mark.parametrize("seed", SEEDS)
def test_seed_times_resolve_against_received_at(seeds_dir: Path, seed: str) -> None:
    """Each brief's published_at is its relative time counted back from --received-at; the main has none."""
    result = CliRunner().invoke(
        app, ["parse", str(seeds_dir / f"{seed}.txt"), "--json", "--received-at", "2026-03-01T12:00:00Z"]
    )
    got = json.loads(result.stdout)
    assert got["articles"][0]["published_at"] is None
    for article in got["articles"][1:]:
        count, unit, _ = article["relative_time"].split()
        minutes = int(count) * {"minuten": 1, "uur": 60}[unit]
        hour, minute = divmod(12 * 60 - minutes, 60)
        assert article["published_at"] == f"2026-03-01T{hour:02d}:{minute:02d}:00Z"

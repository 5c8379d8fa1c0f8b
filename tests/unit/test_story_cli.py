"""The operator's story commands on a SQLite database: stories, stories show, stories rebuild,
articles --json with story_id, entities by stories or by mentions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dropwire.cli import app
from services.store.db import make_engine, upgrade
from services.store.repository import Repository
from tests.unit.test_story_store import brief_page, main_page

pytestmark = pytest.mark.unit


def lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.fixture
def env(sqlite_url: str) -> dict[str, str]:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    Repository(engine).store([brief_page(f"p{i}.txt", minutes=i) for i in range(3)] + [main_page("m.txt", 9)])
    engine.dispose()
    return {"DROPWIRE_DATABASE_URL": sqlite_url, "DROPWIRE_LOG_FORMAT": "json"}


def test_stories_lists_each_item_once_with_its_sightings(env: dict[str, str]) -> None:
    """`dropwire stories --json`: one line per story, newest first, with sightings and versions."""
    result = CliRunner().invoke(app, ["stories", "--json"], env=env)
    assert result.exit_code == 0, result.output
    stories = lines(result.output)
    fire = next(s for s in stories if s["headline"] == "Grote brand in Zwolle")
    assert (fire["sightings"], fire["versions"], fire["place"]) == (4, 1, "Zwolle")
    assert len(stories) == 4  # the fire, the DPA text, the cabinet's fall, the holiday rentals
    first_seen = [str(s["first_seen"]) for s in stories]
    assert first_seen == sorted(first_seen, reverse=True)
    only = lines(CliRunner().invoke(app, ["stories", "--json", "--entity", "Zwolle"], env=env).output)
    assert len(only) == 2


def test_stories_show_lists_the_articles_of_one_story(env: dict[str, str]) -> None:
    """`dropwire stories show ID --json`: the story's articles, briefs and main."""
    fire = next(
        s
        for s in lines(CliRunner().invoke(app, ["stories", "--json"], env=env).output)
        if s["sightings"] == 4
    )
    shown = lines(
        CliRunner().invoke(app, ["stories", "show", str(fire["story_id"]), "--json"], env=env).output
    )
    assert sorted(a["role"] for a in shown) == ["brief", "brief", "brief", "main"]
    missing = CliRunner().invoke(app, ["stories", "show", "999999"], env=env)
    assert missing.exit_code == 1


def test_articles_json_carries_the_story(env: dict[str, str]) -> None:
    """`dropwire articles --json` includes story_id and story_version."""
    records = lines(CliRunner().invoke(app, ["articles", "--json", "-n", "50"], env=env).output)
    assert records and all(isinstance(r["story_id"], int) and r["story_version"] == 1 for r in records)
    assert len({r["story_id"] for r in records}) == 4


def test_entities_count_stories_by_default_and_mentions_on_request(env: dict[str, str]) -> None:
    """`dropwire entities` ranks by stories; `--by mentions` gives the old figure."""
    by_stories = lines(CliRunner().invoke(app, ["entities", "--json"], env=env).output)
    by_mentions = lines(CliRunner().invoke(app, ["entities", "--json", "--by", "mentions"], env=env).output)
    zwolle = next(e for e in by_stories if e["name"] == "Zwolle")
    assert (zwolle["stories"], zwolle["mentions"]) == (2, 7)
    assert next(e for e in by_mentions if e["name"] == "Zwolle")["mentions"] == 7
    assert CliRunner().invoke(app, ["entities", "--by", "pages"], env=env).exit_code != 0


def test_stories_rebuild_assigns_what_has_no_story_then_nothing(env: dict[str, str]) -> None:
    """`dropwire stories rebuild` (its own process: it configures logging) assigns articles stored
    without a story, reports progress on stderr, and a second run has nothing left to do."""
    engine = make_engine(env["DROPWIRE_DATABASE_URL"])
    Repository(engine, stories=False).store([brief_page("late.txt", minutes=30)])
    engine.dispose()
    dropwire = Path(sys.executable).with_name("dropwire")
    command = [str(dropwire), "stories", "rebuild", "--chunk", "2"]
    first = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert lines(first.stdout)[-1] == {"assigned": 3, "new_stories": 0, "left": 0}
    assert "3/3 articles assigned" in first.stderr
    again = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert lines(again.stdout)[-1] == {"assigned": 0, "new_stories": 0, "left": 0}

"""`dropwire bench --quick` runs every phase end to end (a smoke test: no timing assertions)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from dropwire.stack import dropwire_command

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REQUIRED = (
    "ceiling_docs_per_s",
    "pipeline_docs_per_s",
    "ratio",
    "latency_p50_ms",
    "latency_p99_ms",
    "ner_words_per_s_per_core",
    "store_rows_per_s_postgres",
    "store_stories_ratio",
    "store_stories_ratio_min",
    "provenance_ratio",
    "provenance_ratio_min",
    "pipeline_docs_per_s_no_provenance",
    "enrich_rss_mb",
)


def test_quick_bench_writes_every_figure_and_the_table(tmp_path: Path, redis_url: str, pg_admin: str) -> None:
    """The quick bench fills the JSON keys BENCHMARKS.md is built from and writes the table with its command."""
    out_json, out_md = tmp_path / "bench.json", tmp_path / "BENCHMARKS.md"
    done = subprocess.run(
        [
            *dropwire_command(),
            "bench",
            "--quick",
            "--json",
            str(out_json),
            "--markdown",
            str(out_md),
            "--redis-url",
            redis_url,
            "--pg-admin-url",
            pg_admin,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out_json.read_text())
    results = report["results"]
    for key in REQUIRED:
        assert results[key] > 0, key
    assert results["quick"] is True
    table = out_md.read_text()
    assert "dropwire bench --quick" in table and "| Pipeline / ceiling |" in table

"""The bench's report: the machine's facts, the table checked against the targets, and where the
time goes, rendered as ``BENCHMARKS.md``."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Targets from the benchmark issue, checked in the table.
TARGETS = {
    "ratio": 0.85,
    "embedded_ratio": 0.75,
    "provenance_ratio": 0.97,
    "latency_p50_ms": 100.0,
    "latency_p99_ms": 500.0,
    "latency_80pct_p99_ms": 500.0,
    "ner_words_per_s_per_core": 20_000.0,
    "store_rows_per_s_postgres": 20_000.0,
    "store_stories_ratio": 0.80,
    "enrich_rss_mb": 400.0,
    "enrich_rss_growth_pct": 1.0,
    "ner_f1_conll2002_testa": 0.70,
    "ner_f1_modern_test": 0.85,
}


# --------------------------------------------------------------------------- reporting


def machine_facts() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        memory = "unknown"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "python": platform.python_version(),
        "commit": commit or "unknown",
    }


ROWS: tuple[tuple[str, str, str, str], ...] = (
    # key, what, unit, comparison against TARGETS (">=" or "<=" or "")
    ("ceiling_docs_per_s", "Ceiling: enrichment alone, one process per core", "docs/s", ""),
    ("ceiling_articles_per_s", "Ceiling: articles", "articles/s", ""),
    ("ceiling_words_per_s", "Ceiling: words", "words/s", ""),
    ("ceiling_cpu_ms_per_doc", "Ceiling: CPU per document (decode, parse, NER)", "ms", ""),
    ("pipeline_docs_per_s", "Pipeline, backlog (Redis + PostgreSQL, separate processes)", "docs/s", ""),
    ("ingest_cpu_ms_per_doc", "Pipeline, backlog: ingest CPU per document", "ms", ""),
    ("enrich_cpu_ms_per_doc", "Pipeline, backlog: enrich CPU per document (all processes)", "ms", ""),
    ("store_cpu_ms_per_doc", "Pipeline, backlog: store CPU per document", "ms", ""),
    ("redis_cpu_ms_per_doc", "Pipeline, backlog: Redis CPU per document", "ms", ""),
    ("postgres_cpu_ms_per_doc", "Pipeline, backlog: PostgreSQL CPU per document", "ms", ""),
    (
        "pipeline_cpu_utilisation",
        "Pipeline, backlog: share of all cores the services, Redis and PostgreSQL kept busy",
        "x",
        "",
    ),
    ("ratio", "Pipeline / ceiling", "x", ">="),
    (
        "ratio_min",
        "Pipeline / ceiling, lowest of the interleaved rounds (the row above: their median)",
        "x",
        "",
    ),
    ("ratio_max", "Pipeline / ceiling, highest round", "x", ""),
    (
        "pipeline_docs_per_s_no_provenance",
        "Pipeline, backlog, provenance off (DROPWIRE_PROVENANCE=false; median of the rounds)",
        "docs/s",
        "",
    ),
    (
        "provenance_ratio",
        "Pipeline, backlog: provenance on / off (median of the rounds' ratios; both stacks in every round)",
        "x",
        ">=",
    ),
    ("provenance_ratio_min", "Pipeline, backlog: provenance on / off, lowest round", "x", ""),
    ("provenance_ratio_max", "Pipeline, backlog: provenance on / off, highest round", "x", ""),
    ("latency_p50_ms", "Drop-to-stored latency at 20 % load, p50", "ms", "<="),
    ("latency_p95_ms", "Drop-to-stored latency at 20 % load, p95", "ms", ""),
    ("latency_p99_ms", "Drop-to-stored latency at 20 % load, p99", "ms", "<="),
    ("latency_80pct_p50_ms", "Drop-to-stored latency at 80 % load, p50", "ms", ""),
    ("latency_80pct_p99_ms", "Drop-to-stored latency at 80 % load, p99", "ms", "<="),
    ("latency_inplace_p50_ms", "Same at 20 % load, files written in place (close settle), p50", "ms", ""),
    ("latency_inplace_p99_ms", "Same at 20 % load, files written in place (close settle), p99", "ms", ""),
    ("ner_words_per_s_per_core", "NER alone, one core", "words/s", ">="),
    (
        "broker_stock_us_per_msg",
        "Broker round trip (publish, deliver, ack), kombu's stock Redis transport",
        "µs CPU",
        "",
    ),
    ("broker_ours_us_per_msg", "Broker round trip, shared.broker (one Redis client per pool)", "µs CPU", ""),
    ("broker_saving_pct", "CPU the shared.broker transport saves per message", "%", ""),
    ("ner_f1_conll2002_testa", "NER F1, CoNLL-2002 ned.testa (evaluation only)", "F1", ">="),
    ("ner_f1_modern_test", "NER F1, the team's modern-news test split", "F1", ">="),
    ("store_rows_per_s_postgres", "Store alone, PostgreSQL, batches of 50 documents", "rows/s", ">="),
    ("store_rows_per_s_postgres_no_stories", "Store alone, PostgreSQL, story assignment off", "rows/s", ""),
    (
        "store_stories_ratio",
        "Store alone, PostgreSQL: stories on / off (median of the interleaved pairs; rows/s above: medians)",
        "x",
        ">=",
    ),
    ("store_stories_ratio_min", "Store alone, PostgreSQL: stories on / off, lowest pair", "x", ""),
    ("store_stories_ratio_max", "Store alone, PostgreSQL: stories on / off, highest pair", "x", ""),
    ("store_rows_per_s_sqlite", "Store alone, SQLite, batches of 50 documents", "rows/s", ""),
    ("ingest_rss_mb", "Peak memory (PSS), ingest", "MB", ""),
    ("enrich_rss_mb", "Peak memory (PSS), enrich: the parent and its worker processes", "MB", "<="),
    ("store_rss_mb", "Peak memory (PSS), store", "MB", ""),
    (
        "enrich_rss_first_mb",
        "Enrich memory over a long backlog: peak of the first complete worker cycle",
        "MB",
        "",
    ),
    (
        "enrich_rss_last_mb",
        "Enrich memory over a long backlog: peak of the last complete worker cycle",
        "MB",
        "",
    ),
    ("enrich_rss_growth_pct", "Enrich memory growth over the long backlog (last cycle / first)", "%", "<="),
    (
        "enrich_rss_tenths_growth_pct",
        "Same, last tenth of the samples / first (compares different points of the recycling saw-tooth)",
        "%",
        "",
    ),
    (
        "memory_enrich_peak_mb",
        "Peak memory (PSS), enrich, over the long backlog (a recycle: fresh forks beside the old)",
        "MB",
        "",
    ),
    ("embedded_docs_per_s", "Embedded dropwire run (SQLite, in-process queue)", "docs/s", ""),
    ("embedded_ratio", "Embedded / ceiling, median of the interleaved rounds", "x", ">="),
    ("embedded_ratio_min", "Embedded / ceiling, lowest round", "x", ""),
    ("embedded_ratio_max", "Embedded / ceiling, highest round", "x", ""),
)


def _fmt(value: float) -> str:
    if value != value:  # NaN
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) < 1:
        return f"{value:.3f}"
    return f"{value:.2f}"


# Sections measured apart from this command (each names its own command) follow this heading in
# BENCHMARKS.md; a bench run rewrites what comes before it and keeps them.
KEPT_HEADING = "## Measured apart from `dropwire bench`"


def kept_sections(markdown: Path) -> str:
    """What follows ``KEPT_HEADING`` in the existing file (with the heading), or nothing."""
    try:
        text = markdown.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    at = text.find(KEPT_HEADING)
    return "" if at == -1 else "\n" + text[at:]


def render_markdown(results: dict[str, Any], facts: dict[str, str], command: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Made by `dropwire bench` (see `dropwire/bench.py` for what each figure measures). Every figure",
        "below comes from the one run described here; ratios are taken within that run.",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {facts['cores']} cores ({facts['cpu']}), {facts['memory']}, Python {facts['python']}; "
        f"commit {facts['commit']}; {facts['date']}.",
        "",
        f"Corpus: {results['files']} files (seed {results['seed']}), {results['corpus_articles']} articles, "
        f"{results['corpus_bytes']:,} bytes, {results['corpus_duplicates']} duplicates.",
        "",
        "| measure | value | unit | target | met |",
        "|---|---:|---|---|---|",
    ]
    for key, what, unit, cmp in ROWS:
        if key not in results:
            continue
        value = float(results[key])
        target, met = "", ""
        if cmp and key in TARGETS:
            target = f"{cmp} {_fmt(TARGETS[key])}"
            ok = value >= TARGETS[key] if cmp == ">=" else value <= TARGETS[key]
            met = "yes" if ok else f"no ({value / TARGETS[key]:.2f} of target)"
        lines.append(f"| {what} | {_fmt(value)} | {unit} | {target} | {met} |")
    lines.append("")
    lines.extend(where_time_goes(results))
    return "\n".join(lines)


def where_time_goes(results: dict[str, Any]) -> list[str]:
    """What the per-process CPU figures of this run say about the ratio to the ceiling."""
    services = ("ingest_cpu_ms_per_doc", "enrich_cpu_ms_per_doc", "store_cpu_ms_per_doc")
    servers = ("redis_cpu_ms_per_doc", "postgres_cpu_ms_per_doc")
    if not all(k in results for k in (*services, *servers, "ceiling_cpu_ms_per_doc")):
        return []
    cores = float(results["ceiling_processes"])
    ceiling = float(results["ceiling_cpu_ms_per_doc"])
    spent = sum(float(results[k]) for k in (*services, *servers))
    bound = cores * 1000 / spent
    allowed = ceiling / float(TARGETS["ratio"])
    return [
        "## Where the time goes (from this run's figures)",
        "",
        f"- The ceiling spends {ceiling:.1f} ms of CPU per document; in the pipeline "
        f"enrich spends {results['enrich_cpu_ms_per_doc']:.1f} ms (its consumer process and message "
        f"encoding on top), ingest {results['ingest_cpu_ms_per_doc']:.1f} ms, store "
        f"{results['store_cpu_ms_per_doc']:.1f} ms, Redis {results['redis_cpu_ms_per_doc']:.1f} ms and "
        f"PostgreSQL {results['postgres_cpu_ms_per_doc']:.1f} ms: {spent:.1f} ms in all, on the same "
        f"{cores:.0f} cores.",
        f"- With every core busy that CPU cost alone would allow {bound:.1f} docs/s, "
        f"{bound / float(results['ceiling_docs_per_s']):.2f} of the ceiling. A ratio of "
        f"{TARGETS['ratio']:.2f} needs the whole pipeline within {allowed:.1f} ms per document: "
        f"{allowed - ceiling:.1f} ms for everything that is not enrichment, against "
        f"{spent - ceiling:.1f} ms here.",
        f"- The services, Redis and PostgreSQL kept {float(results['pipeline_cpu_utilisation']):.0%} of "
        "the cores busy during the backlog; for the rest of the time they were waiting on each other, or "
        "other work on the machine had the CPU.",
        "- What a profile of the backlog showed before enrich consumed in batches (`py-spy record --gil "
        "-p <pid>` on each service): outside the NER model, the CPU went to moving messages, two Celery "
        "messages per document (received, enriched) and the hand-over between the Celery parent and its "
        "children, no one step large. Enrich now takes a batch per hand-over and sends the store one "
        'message per batch; the per-hop figures before and after are under "Measured apart from '
        "`dropwire bench`\" below. Ingest reads its inbox's inotify events itself (no watchdog threads "
        "since issue 13's third round, half its CPU before); one Celery message per file remains, about "
        "half of what ingest spends per file.",
        "- Store and PostgreSQL (profiles of the store alone, `cProfile` and per-step CPU timers around "
        "`Repository.write`): with story assignment on, the store's own Python work per article (the "
        "batch's matching plan, the stories' figures) and the figures' upsert are most of what it adds; "
        "the index keys a new story writes cost about half what they did (COPY, no foreign keys). "
        "PostgreSQL also computes and indexes each article's `dutch` tsvector for search. Figures before "
        'and after: "Store alone: what story assignment costs" below.',
        *_memory_lines(results),
        "",
    ]


def _memory_lines(results: dict[str, Any]) -> list[str]:
    """How to read the memory rows: the recycling saw-tooth, and which samples are compared."""
    peaks = results.get("enrich_cycle_peaks_mb")
    if not peaks or "enrich_rss_tenths_growth_pct" not in results:
        return []
    listed = ", ".join(f"{float(mb):.0f}" for mb in peaks)
    return [
        "- Enrich's memory over the long backlog is a saw-tooth: a fresh fork shares the model with the "
        "parent and makes private copies of the pages it touches as it works (a reference count is a "
        "write), and every `DROPWIRE_ENRICH_RECYCLE_DOCUMENTS` documents per process fresh forks start "
        f"over. The growth row compares like with like, the {results['enrich_growth_method']} (the "
        f"peaks of all complete cycles: {listed} MB); the last tenth of the samples against the first "
        f"({float(results['enrich_rss_tenths_growth_pct']):+.1f} %) compares different points of the "
        f"saw-tooth. The highest sample of all, {float(results['memory_enrich_peak_mb']):.0f} MB, "
        "falls on a recycle when it is caught: the fresh forks beside the old ones finishing their "
        "batches (`dropwire/bench_memory.py`).",
    ]

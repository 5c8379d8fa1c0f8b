"""The bench's store phase on the real PostgreSQL: story assignment on and off in interleaved pairs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dropwire import bench
from services.store.bench import synthetic_docs

pytestmark = pytest.mark.integration


def test_store_rounds_interleave_fresh_databases_and_take_medians(
    pg_admin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ROUNDS`` pairs, the first on-then-off, the next off-then-on, each run in a database of its own
    that is dropped after; rows/s are the medians of each mode's runs, the ratio the median of the pairs'."""
    calls: list[tuple[str, bool]] = []
    figures = iter([100.0, 200.0, 150.0, 100.0, 90.0, 100.0])  # on/off: 0.5, 100/150 (off first), 0.9

    def fake_measure(url: str, docs: object, batch: int, *, stories: bool = True) -> float:
        calls.append((url, stories))
        return next(figures)

    monkeypatch.setattr(bench, "measure_store", fake_measure)
    monkeypatch.setattr(bench, "ROUNDS", 3)
    out = bench._store_rounds(pg_admin, synthetic_docs(2))
    assert [s for _, s in calls] == [True, False, False, True, True, False]
    assert len({u for u, _ in calls}) == 6  # a fresh database every run
    assert out == {
        "store_rows_per_s_postgres": 100.0,  # on: 100, 100, 90
        "store_rows_per_s_postgres_no_stories": 150.0,  # off: 200, 150, 100
        "store_stories_ratio": pytest.approx(100 / 150),
        "store_stories_ratio_min": 0.5,
        "store_stories_ratio_max": 0.9,
    }
    admin = sa.create_engine(pg_admin)
    with admin.connect() as conn:
        names = set(conn.execute(sa.text("SELECT datname FROM pg_database")).scalars())
    admin.dispose()
    assert not names & {sa.engine.make_url(u).database for u, _ in calls}  # all dropped


def test_store_rounds_measure_the_real_store(pg_admin: str) -> None:
    """Unfaked, on a few synthetic documents: every figure is a positive rate."""
    out = bench._store_rounds(pg_admin, synthetic_docs(6))
    assert all(v > 0 for v in out.values())
    assert out["store_stories_ratio_min"] <= out["store_stories_ratio"] <= out["store_stories_ratio_max"]


def test_store_phases_time_first_copies_and_repeats_apart(pg_admin: str) -> None:
    """``scripts/store_stories_ab.py --phases``: the batches before ``first`` and after are timed
    apart, and the rate is that of the whole loop, as ``measure_store``'s."""
    from dropwire.bench_enrich import distinct_copies
    from dropwire.stack import fresh_postgres
    from scripts.store_stories_ab import measure_phases

    docs = distinct_copies(synthetic_docs(4), 8)  # the second four repeat the first
    with fresh_postgres(pg_admin) as url:
        rate, first, rest = measure_phases(url, docs, 2, True, 4)
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            stories = conn.execute(sa.text("SELECT count(*) FROM stories WHERE merged_into IS NULL")).scalar()
            articles = conn.execute(sa.text("SELECT count(*) FROM articles")).scalar()
        engine.dispose()
    assert rate > 0 and first > 0 and rest > 0
    assert articles == 2 * sum(len(d.articles) for d in docs[:4])  # every copy stored
    assert stories == len({a.body for d in docs[:4] for a in d.articles})  # the copies added none


def test_store_cpu_counts_the_store_and_its_backend(pg_admin: str) -> None:
    """``scripts/store_stories_ab.py --cpu``: the CPU of this process and of its PostgreSQL backend
    over the same loop, growing with the work (ten times the documents: several times the CPU)."""
    from dropwire.stack import fresh_postgres
    from scripts.store_stories_ab import measure_cpu

    server = {}
    for count in (12, 120):
        with fresh_postgres(pg_admin) as url:
            rate, store_cpu, server[count] = measure_cpu(url, synthetic_docs(count), 12, True)
        assert rate > 0 and store_cpu > 0 and server[count] > 0
    assert server[120] > 3 * server[12]

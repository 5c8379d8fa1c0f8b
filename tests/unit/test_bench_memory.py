"""How the bench reads enrich's memory across recycled worker cycles (``dropwire.bench_memory``)."""

from __future__ import annotations

from dropwire.bench_memory import Detail, cycles, growth

ROOT = 100


def _sawtooth(peaks: list[float], *, overlap: float = 0.0, per_cycle: int = 10) -> list[Detail]:
    """Samples of a parent (pid 100) whose two workers are replaced every ``per_cycle`` samples and
    climb from 50 MB each to ``peak / 2`` each; with ``overlap`` the fresh pair's first sample also
    shows the old pair, holding ``overlap`` MB more."""
    out: list[Detail] = []
    t = 0.0
    for number, peak in enumerate(peaks):
        a, b = 1000 + 2 * number, 1001 + 2 * number
        for step in range(per_cycle):
            each = 50 + (peak / 2 - 50) * step / (per_cycle - 1)
            sample = {ROOT: 0.0, a: each, b: each}
            if step == 0 and number > 0 and overlap:
                sample[a - 2], sample[b - 2] = overlap / 2, overlap / 2
            out.append((t, sample))
            t += 0.5
    return out


def test_a_sawtooth_that_returns_to_the_same_peak_does_not_grow() -> None:
    details = _sawtooth([400, 400, 400, 400])
    figures = growth(details, ROOT)
    assert figures["enrich_rss_growth_pct"] == 0.0
    # The old reading (first tenth against last tenth) sees the saw-tooth as growth.
    assert figures["enrich_rss_tenths_growth_pct"] > 50


def test_cycles_that_climb_higher_each_time_show_as_growth() -> None:
    figures = growth(_sawtooth([400, 410, 420, 430]), ROOT)
    assert figures["enrich_cycle_peaks_mb"] == [400, 410, 420]  # the last cycle never completed
    assert round(float(figures["enrich_rss_growth_pct"]), 2) == 5.0


def test_a_recycle_overlap_is_the_peak_but_not_compared() -> None:
    details = _sawtooth([400, 400, 400], overlap=400)
    found = cycles(details, ROOT)
    assert [c.complete for c in found] == [True, True, False]
    assert [c.peak_mb for c in found] == [400.0, 400.0, 400.0]
    assert found[0].overlap_mb == 500.0  # the fresh pair (50 MB each) beside the old pair
    figures = growth(details, ROOT)
    assert figures["enrich_rss_growth_pct"] == 0.0
    assert figures["memory_enrich_peak_mb"] == 500.0


def test_without_recycling_the_first_and_last_tenth_are_compared() -> None:
    details = [(i * 0.5, {ROOT: 100.0 + i, 7: 200.0}) for i in range(100)]
    figures = growth(details, ROOT)
    assert "tenth" in str(figures["enrich_growth_method"])
    assert figures["enrich_rss_first_mb"] == 304.5
    assert figures["enrich_rss_last_mb"] == 394.5

"""Enrich's memory over a long backlog, read cycle by cycle of its recycled worker processes.

Enrich replaces its worker processes every ``DROPWIRE_ENRICH_RECYCLE_DOCUMENTS`` documents each
(``services.enrich.batching``). That makes the PSS of its process tree a saw-tooth: a fresh fork
shares almost every page with the parent (the model, the interpreter), and as it works it makes
private copies of the pages it writes to (copy-on-write: a Python object's reference count is a
write, so reading the model dirties the pages it lives on) and grows its own heap, spaCy's string
store among it; at a recycle the tree falls back to the parent plus fresh forks.

Comparing the first tenth of the samples with the last, as the bench once did, compares different
points of that saw-tooth: at the start the first forks have done little, at the end the last ones
have been working for a while, so a tree that returns to the same peak every cycle still "grows".
Like is compared with like here instead: every complete cycle (its worker processes forked, given
the same number of documents, replaced and gone) is one unit, and the growth is the peak of the
last complete cycle against the peak of the first, each taken over the samples where that cycle's
processes worked alone. The moment of a recycle, when the fresh forks already run beside the old
ones finishing their batches, is left out of the comparison because a 0.5 s sampler catches it in
some cycles and not in others (in a measured run: 432 MB in the first, 272-388 MB in the next); it
is real memory, so the highest sample of all, overlap included, is reported beside the growth. Growth that survives recycling (the parent's
own, which every fork inherits, or a cycle that climbs higher than the one before) shows there;
the saw-tooth inside a cycle does not. Where there are fewer than two complete cycles (recycling
off, or a short backlog), the first and last tenth of the samples are compared, as before: then
nothing resets and the comparison is fair.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

Detail = tuple[float, dict[int, float]]  # (seconds since the sampler started, PSS in MB by pid)


@dataclass(frozen=True)
class Cycle:
    """One generation of worker processes, from the first sample that shows them to the last."""

    workers: frozenset[int]
    first: int  # index of its first sample
    last: int  # index of its last sample (its last worker process still alive)
    peak_mb: float  # the tree's highest total PSS over the samples where these processes worked alone
    overlap_mb: float  # the highest over the samples where the next generation already ran too (0: none)
    complete: bool  # replaced by a later generation and gone before sampling ended


def cycles(details: Sequence[Detail], root: int) -> list[Cycle]:
    """The worker generations of the tree rooted at ``root``, in order.

    A generation is the set of processes first seen in the same sample (or in consecutive samples:
    a pool's forks straddling a sample). Each sample belongs to the oldest generation still alive in
    it, so the overlap at a recycle (fresh forks taking batches while the old ones finish theirs)
    ends the old cycle, the same way for every cycle.
    """
    born: dict[int, int] = {}  # pid -> generation number
    generations: list[set[int]] = []
    previous_new = -2
    for index, (_, by_pid) in enumerate(details):
        new = [p for p in by_pid if p != root and p not in born]
        if not new:
            continue
        if index != previous_new + 1 or not generations:
            generations.append(set())
        generations[-1].update(new)
        for pid in new:
            born[pid] = len(generations) - 1
        previous_new = index
    owner: list[int | None] = []
    for _, by_pid in details:
        alive = [born[p] for p in by_pid if p in born]
        owner.append(min(alive) if alive else None)
    out = []
    for number, workers in enumerate(generations):
        indexes = [i for i, g in enumerate(owner) if g == number]
        if not indexes:
            continue  # forked and gone between two samples
        last = indexes[-1]
        alone = [i for i in indexes if all(born.get(p, number) <= number for p in details[i][1])]
        beside = [i for i in indexes if i not in alone]
        out.append(
            Cycle(
                workers=frozenset(workers),
                first=indexes[0],
                last=last,
                peak_mb=max((sum(details[i][1].values()) for i in alone), default=0.0),
                overlap_mb=max((sum(details[i][1].values()) for i in beside), default=0.0),
                complete=last < len(details) - 1 and number < len(generations) - 1,
            )
        )
    return out


def growth(details: Sequence[Detail], root: int) -> dict[str, float | str | list[float]]:
    """The enrich tree's memory growth over the samples (see the module docstring), with its inputs."""
    totals = [sum(by_pid.values()) for _, by_pid in details]
    tenth = max(1, len(totals) // 10)
    first_tenth, last_tenth = statistics.mean(totals[:tenth]), statistics.mean(totals[-tenth:])
    out: dict[str, float | str | list[float]] = {
        "enrich_rss_first_tenth_mb": first_tenth,
        "enrich_rss_last_tenth_mb": last_tenth,
        "enrich_rss_tenths_growth_pct": (last_tenth - first_tenth) / first_tenth * 100,
        "memory_enrich_peak_mb": max(totals),
    }
    complete = [c for c in cycles(details, root) if c.complete and c.peak_mb > 0]
    out["enrich_cycle_peaks_mb"] = [c.peak_mb for c in complete]
    if len(complete) >= 2:
        first, last = complete[0].peak_mb, complete[-1].peak_mb
        out.update(
            enrich_growth_method="peaks of the first and last complete worker cycles",
            enrich_rss_first_mb=first,
            enrich_rss_last_mb=last,
        )
    else:
        first, last = first_tenth, last_tenth
        out.update(
            enrich_growth_method="first and last tenth of the samples (fewer than two worker cycles)",
            enrich_rss_first_mb=first,
            enrich_rss_last_mb=last,
        )
    out["enrich_rss_growth_pct"] = (last - first) / first * 100
    return out

"""Process accounting for the bench: a process tree's pids, CPU seconds and RSS (from /proc), an RSS
sampler, percentiles, and waiting on a condition with the phase deadline."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

console = Console(stderr=True)

# How long any one phase may wait for the pipeline before it gives up (a stalled pipeline is a result).
PHASE_DEADLINE_SECONDS = 1800.0
# RSS sampling period: often enough to catch peaks of a worker that lives for minutes.
RSS_SAMPLE_SECONDS = 0.5

# --------------------------------------------------------------------------- processes and memory


def tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def own_cpu_seconds(pids: Sequence[int], *, reaped: bool = False) -> float:
    """CPU time (user + system) used so far by exactly these processes, not their descendants;
    ``reaped``: also that of their children which ended and were waited for (``cutime``/``cstime``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that ended during the run: its CPU is not counted (a lower bound)
        total += int(fields[11]) + int(fields[12])
        if reaped:
            total += int(fields[13]) + int(fields[14])
    return total / ticks


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by ``pid`` and its descendants, those that ended too:
    enrich's recycled worker processes exit mid-run, and their CPU is in their parent's ``cutime``
    once it has waited for them (a process not yet waited for is not counted: a lower bound)."""
    return own_cpu_seconds(tree_pids(pid), reaped=True)


def tree_pss_mb(pid: int) -> dict[int, float]:
    """Proportional set size (PSS) in MB of ``pid`` and of each of its descendants, by pid.

    PSS shares each page among the processes that map it, so forked workers sharing the model's
    pages are not counted twice, as a sum of RSS would.
    """
    out: dict[int, float] = {}
    for p in tree_pids(pid):
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    out[p] = int(line.split()[1]) / 1024
                    break
        except OSError:
            continue
    return out


def rss_mb(pid: int) -> float:
    """Memory of ``pid`` and its descendants in MB: the sum of their PSS (see ``tree_pss_mb``)."""
    return sum(tree_pss_mb(pid).values())


@dataclass
class RssSampler:
    """Samples the memory (PSS) of some process trees in a background thread.

    ``samples`` holds each tree's total; for the trees named in ``detailed`` ``details`` also keeps
    each sample's PSS per process, so that a tree whose worker processes are replaced can be read
    cycle by cycle (``dropwire.bench_memory``).
    """

    pids: dict[str, int]
    detailed: tuple[str, ...] = ()
    samples: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    details: dict[str, list[tuple[float, dict[int, float]]]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.wait(RSS_SAMPLE_SECONDS):
            for name, pid in self.pids.items():
                now = time.monotonic() - start
                per_process = tree_pss_mb(pid)
                self.samples.setdefault(name, []).append((now, sum(per_process.values())))
                if name in self.detailed:
                    self.details.setdefault(name, []).append((now, per_process))

    def peak(self, name: str) -> float:
        return max((mb for _, mb in self.samples.get(name, [])), default=0.0)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def wait_for(condition: Callable[[], bool], what: str, timeout: float = PHASE_DEADLINE_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"benchmark gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(0.02)

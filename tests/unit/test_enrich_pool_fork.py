"""Enrich's worker pool forks from a parent whose loaded objects the collector no longer traverses."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from services.enrich import pool

pytestmark = [pytest.mark.unit]


def test_the_parent_freezes_what_it_holds_before_the_first_fork() -> None:
    """Without the freeze every collection in a worker writes to the headers of the model's objects and
    copies their pages (enrich's PSS rose from about 370 to 430 MB over a backlog,
    ``scripts/memory_cycles.py --files 2500``); refrozen at every recycle, cyclic garbage would stay."""
    executor = pool.start_pool(1)
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        pool.start_pool(1).shutdown()  # a recycle's fresh pool freezes nothing more
        assert gc.get_freeze_count() == frozen
    finally:
        executor.shutdown()
        gc.unfreeze()


# The worker processes of a parent killed outright: started in a child Python, which prints their pids.
ORPHAN_SCRIPT = """
import os, sys, time
from services.enrich import pool
executor = pool.start_pool(2)
print(" ".join(str(pid) for pid in executor._processes), flush=True)
time.sleep(120)
"""


def _gone(pid: int) -> bool:
    """Whether ``pid`` has exited (a zombie waiting for whoever adopted it counts as exited)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return True
    return fields[0] == "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="prctl(PR_SET_PDEATHSIG) is Linux's")
def test_workers_end_when_their_parent_is_killed() -> None:
    """A parent killed with SIGKILL never shuts its pool down: its workers must not stay behind (they
    did, each blocked on its call queue, holding its share of the model, until the machine restarted)."""
    root = Path(__file__).resolve().parents[2]
    parent = subprocess.Popen(
        [sys.executable, "-c", ORPHAN_SCRIPT],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        assert parent.stdout is not None
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(workers) == 2 and not any(_gone(pid) for pid in workers)
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(_gone(pid) for pid in workers):
            time.sleep(0.05)
        left = [pid for pid in workers if not _gone(pid)]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert not left, f"workers {left} outlived their killed parent"
    finally:
        parent.kill()
        parent.wait(10)

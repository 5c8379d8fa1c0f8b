"""The bench's CPU accounting from /proc (``dropwire.bench_procs``)."""

from __future__ import annotations

import os
import subprocess
import sys

from dropwire.bench_procs import cpu_seconds, own_cpu_seconds

BURN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end:\n    pass\n"


def test_a_child_that_ended_is_still_counted_in_its_parents_tree() -> None:
    """Enrich's recycled worker processes end mid-run: their CPU must not vanish from its figure."""
    me = os.getpid()
    before, own_before = cpu_seconds(me), own_cpu_seconds([me])
    subprocess.run([sys.executable, "-c", BURN], check=True)  # runs, burns 0.3 s of CPU, is waited for
    assert cpu_seconds(me) - before >= 0.25
    assert own_cpu_seconds([me]) - own_before < 0.25  # the parent itself did not burn it

"""Start time of the read-only ``dropwire`` commands, two source trees compared in one interleaved run.

    python scripts/cli_start_time.py BEFORE_TREE AFTER_TREE [--rounds 7]

Each command runs as a fresh process (``python -c "from dropwire.cli import main; main()" ...``) with
``PYTHONPATH`` set to the tree, against a scratch SQLite database (migrated) and spool, with no service
probed by ``status``. The two trees alternate command by command, so load on a shared machine hits
both alike. Prints a Markdown table of medians: wall time, and CPU time (user + system of the child),
which a busy machine disturbs less.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The read-only commands (``tests/unit/test_cli_start_imports.py`` checks the same ones).
COMMANDS = (
    ("version",),
    ("config",),
    ("status",),
    ("articles", "-n", "1"),
    ("entities", "-n", "1"),
    ("failed", "list"),
)
ENTRY = "from dropwire.cli import main; main()"


def _run(tree: str, args: tuple[str, ...], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", ENTRY, *args], env=env | {"PYTHONPATH": tree}, cwd=tree, capture_output=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def scratch_env(root: Path, tree: str, broker_url: str) -> dict[str, str]:
    """The environment for a read command against a scratch spool and SQLite database under ``root``
    (migrated by ``tree``'s code), none of the caller's ``DROPWIRE_`` settings, and ``broker_url``
    for ``status`` (point it where nothing listens). Also used by ``tests/unit/test_cli_start_imports``."""
    for folder in ("inbox", "processing", "archive", "failed"):
        (root / "spool" / folder).mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DROPWIRE_")}
    env |= {
        "DROPWIRE_DATABASE_URL": f"sqlite:///{root}/db.sqlite",
        "DROPWIRE_SPOOL_DIR": str(root / "spool"),
        "DROPWIRE_STATUS_SERVICES": "",
        "DROPWIRE_BROKER_URL": broker_url,
    }
    subprocess.run(
        [sys.executable, "-c", ENTRY, "db", "upgrade"],
        env=env | {"PYTHONPATH": tree},
        cwd=tree,
        capture_output=True,
        check=True,
    )
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=7)
    # Nothing listens there: `status` reports the broker down (redis-py is imported all the same)
    # instead of reading queue lengths from someone's Redis database 0, the default URL.
    parser.add_argument("--broker-url", default="redis://127.0.0.1:1/0")
    opts = parser.parse_args()
    env = scratch_env(Path(tempfile.mkdtemp(prefix="dropwire-start-")), opts.after, opts.broker_url)
    trees = {"before": opts.before, "after": opts.after}
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(opts.rounds):
        for args in COMMANDS:
            for name, tree in trees.items():
                times.setdefault((" ".join(args), name), []).append(_run(tree, args, env))
    print(f"| command | wall before | wall after | CPU before | CPU after |  (medians of {opts.rounds})")
    print("|---|---:|---:|---:|---:|")
    for args in COMMANDS:
        cmd = " ".join(args)
        b, a = times[(cmd, "before")], times[(cmd, "after")]
        med = [statistics.median(x[i] for x in runs) for runs in (b, a) for i in (0, 1)]
        print(f"| `dropwire {cmd}` | {med[0]:.2f} s | {med[2]:.2f} s | {med[1]:.2f} s | {med[3]:.2f} s |")


if __name__ == "__main__":
    main()

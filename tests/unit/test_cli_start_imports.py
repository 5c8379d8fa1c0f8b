"""The read-only commands start light: they import no heavy library they do not use.

Not a timed test (a shared machine makes timings flaky): the import graph is what decides start-up
(BENCHMARKS.md, "Start time of the read-only commands"), so each command runs in a fresh process
against a scratch SQLite database and spool, and the modules it loaded are checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

READ_COMMANDS = (
    ("version",),
    ("config",),
    ("status",),
    ("articles", "-n", "1"),
    ("entities", "-n", "1"),
    ("failed", "list"),
)
# Libraries no read-only command needs: the queue machinery, the NER engine, the metrics client, the
# migration tool, the ORM (the reads are Core), the logging library (nothing is logged), the stemmer
# (nothing is searched), and the story index's numerics.
HEAVY = (
    "celery",
    "kombu",
    "spacy",
    "thinc",
    "prometheus_client",
    "alembic",
    "sqlalchemy.orm",
    "structlog",
    "snowballstemmer",
    "datasketch",
    "numpy",
    "scipy",
)
PROBE = """
import json, sys
from dropwire.cli import main
try:
    main(sys.argv[2:])
except SystemExit:
    pass
finally:
    with open(sys.argv[1], "w") as out:
        json.dump(sorted(sys.modules), out)
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("start")
    for folder in ("inbox", "processing", "archive", "failed"):
        (root / "spool" / folder).mkdir(parents=True)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DROPWIRE_")}
    made = clean | {
        "PYTHONPATH": str(REPO_ROOT),
        "DROPWIRE_DATABASE_URL": f"sqlite:///{root}/db.sqlite",
        "DROPWIRE_SPOOL_DIR": str(root / "spool"),
        "DROPWIRE_STATUS_SERVICES": "",
        "DROPWIRE_BROKER_URL": "redis://127.0.0.1:1/15",  # nothing listens: status reports it down
    }
    subprocess.run(
        [sys.executable, "-c", "from dropwire.cli import main; main()", "db", "upgrade"],
        env=made,
        check=True,
        capture_output=True,
    )
    return made


@pytest.mark.parametrize("args", READ_COMMANDS, ids=lambda a: " ".join(a))
def test_a_read_only_command_imports_no_heavy_library(
    args: tuple[str, ...], env: dict[str, str], tmp_path: Path
) -> None:
    """``dropwire COMMAND`` loads none of HEAVY (and runs: it prints something)."""
    modules = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(modules), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout or done.stderr, "the command printed nothing"
    loaded = json.loads(modules.read_text())
    heavy = sorted({m for m in loaded for name in HEAVY if m == name or m.startswith(name + ".")})
    assert heavy == [], f"dropwire {' '.join(args)} imports {heavy[:8]}"

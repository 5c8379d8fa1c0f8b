"""The read-only commands start light: they import no heavy library they do not use.

Not a timed test (a shared machine makes timings flaky): the import graph is what decides start-up
(BENCHMARKS.md, "Start time of the read-only commands"), so each command runs in a fresh process
against a scratch SQLite database and spool, and the modules it loaded are checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))

from cli_start_time import COMMANDS, scratch_env

pytestmark = pytest.mark.unit

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
    # Nothing listens at the broker address: `status` reports it down.
    made = scratch_env(tmp_path_factory.mktemp("start"), str(REPO_ROOT), "redis://127.0.0.1:1/15")
    return made | {"PYTHONPATH": str(REPO_ROOT)}


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
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

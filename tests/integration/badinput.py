"""Helpers shared by the bad-input catalogue tests: a Redis db and a PostgreSQL database per module,
metric samples from a scrape, queued Celery messages, and running ``dropwire ingest`` under ``setpriv``.

One service start-up serves a whole module of cases (module-scoped fixtures), which is what keeps the
catalogue fast; each case then checks its own increment of the metrics, not absolute values.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import uuid

import redis
from prometheus_client.parser import text_string_to_metric_families

from dropwire.stack import Stack, dropwire_command, free_port
from shared.spool import inbox_name

# The capabilities that let root ignore file modes: without them, even root gets EACCES on a file
# with mode 000, which is how the "no read permission" case is tested on a machine that runs as root.
DAC_CAPABILITIES = "-dac_override,-dac_read_search"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of a Prometheus text scrape, keyed by (name, sorted labels)."""
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(scraped: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when the series is absent)."""
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def queued(client: redis.Redis, queue: str) -> list[tuple[str, str]]:
    """The (task name, payload) of every message waiting in a Celery queue on Redis, oldest first."""
    out = []
    for raw in reversed(client.lrange(queue, 0, -1)):
        envelope = json.loads(raw)
        body = json.loads(base64.b64decode(envelope["body"]))
        out.append((envelope["headers"]["task"], body[0][0]))
    return out


def start_ingest_without_dac_override(stack: Stack) -> None:
    """Start ``dropwire ingest`` for ``stack`` with root's file-mode bypass dropped (see DAC_CAPABILITIES)."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise AssertionError(
            "setpriv (util-linux) is needed to drop CAP_DAC_OVERRIDE for the ingest under test"
        )
    stack.ports.setdefault("ingest", free_port())
    with (stack.logs_dir / "ingest.log").open("ab") as log:
        proc = subprocess.Popen(
            [
                setpriv,
                f"--bounding-set={DAC_CAPABILITIES}",
                f"--inh-caps={DAC_CAPABILITIES}",
                *dropwire_command(),
                "ingest",
            ],
            env=stack.env("ingest"),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=stack.root,
            start_new_session=True,
        )
    stack.procs["ingest"] = proc
    stack.wait_ready("ingest")


def note(stack: Stack, claim: str) -> dict[str, object]:
    """The ``.error.json`` note of one failed claim."""
    return json.loads((stack.spool / "failed" / f"{claim}.error.json").read_text(encoding="utf-8"))


def folder_of(stack: Stack, original: str) -> tuple[str, str] | None:
    """(spool folder, claim name) where the file dropped as ``original`` is now, if anywhere."""
    for folder in ("inbox", "processing", "archive", "failed"):
        for path in (stack.spool / folder).iterdir():
            if path.name.endswith(".error.json") or path.name.startswith("."):
                continue
            claim = path.name
            name = inbox_name(claim) if folder != "inbox" else claim
            if name == original:
                return folder, claim
    return None


def unique_page(tag: str) -> bytes:
    """A small good wire page whose bytes (and so doc id) are this call's own."""
    return (
        f"Nieuwe brug in Groningen\nGRONINGEN (ANP) - In Groningen is een brug geopend ({tag}, "
        f"{uuid.uuid4().hex[:8]}).\n"
    ).encode()

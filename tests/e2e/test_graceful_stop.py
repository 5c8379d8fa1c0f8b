"""Graceful stop: SIGTERM to ingest, enrich, store and ``dropwire run`` while files are in flight.

Each service exits 0 within ``STOP_BOUND_SECONDS``; nothing is half-written (every document row has
exactly the article rows it says it has, no file is lost or failed: each is in the inbox, in
``processing/`` to be picked up again, or archived with its row); and once the service is started again
every file ends archived, each distinct content stored once.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from dropwire.stack import Stack, fresh_postgres, leased_redis_db, wait_until
from shared.decoding import decode_bytes
from shared.errors import PermanentError
from tests.e2e.test_run_embedded import RunProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
# Files per round: enough that a stop lands while some are queued, some being worked on, some done.
FILES_PER_ROUND = 40
DROPS_PER_SECOND = 8.0  # 40 files over 5 s: the stop lands while files still arrive
# A stop waits for the task or batch in hand (well under a second each); the rest is interpreter exit.
STOP_BOUND_SECONDS = 20.0
FLOW_DEADLINE_SECONDS = 90.0


def pages(tag: str, count: int) -> dict[str, bytes]:
    """``count`` distinct good files made from the fixture pages (UTF-16 ones left out: a suffix is ASCII)."""
    sources = []
    for path in sorted(PAGES.glob("*.txt")):
        data = path.read_bytes()
        try:
            if decode_bytes(data).encoding.startswith("utf-16"):
                continue
        except PermanentError:  # a fixture that is bad on purpose
            continue
        sources.append((path.stem, data))
    out = {}
    for i in range(count):
        stem, data = sources[i % len(sources)]
        out[f"{tag}-{i:03d}-{stem}.txt"] = data + f"\nKenmerk {tag} {i}.\n".encode()
    return out


def consistent(engine: sa.Engine) -> tuple[int, int]:
    """(documents, documents whose article rows do not match their article_count): the second must be 0."""
    with engine.connect() as conn:
        documents = conn.execute(sa.text("select count(*) from documents")).scalar_one()
        torn = conn.execute(
            sa.text(
                "select count(*) from documents d where d.article_count <> "
                "(select count(*) from articles a where a.document_id = d.id)"
            )
        ).scalar_one()
    return documents, torn


def stored_shas(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return {r[0] for r in conn.execute(sa.text("select sha256 from documents"))}


def round_counts(stack: Stack, names: set[str]) -> dict[str, int]:
    """Files of one round per spool folder (claims carry the original name after ``__``)."""
    out = {}
    for folder in ("inbox", "processing", "archive", "failed"):
        entries = stack.folder(folder)
        out[folder] = sum(1 for e in entries if (e if folder == "inbox" else e.partition("__")[2]) in names)
    return out


def drop_paced(stack: Stack, files: dict[str, bytes]) -> None:
    """Drop ``files`` at DROPS_PER_SECOND, as a steady feed does."""
    for name, data in files.items():
        stack.drop(name, data)
        time.sleep(1 / DROPS_PER_SECOND)  # pacing the feed, not waiting for the pipeline


@pytest.fixture(scope="module")
def stack(redis_server: str, pg_admin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One pipeline for the three per-service rounds (each round stops and restarts its own service)."""
    root = tmp_path_factory.mktemp("graceful")
    env = {"DROPWIRE_HEARTBEAT_SECONDS": "0", "DROPWIRE_BATCH_SIZE": "5"}
    with (
        leased_redis_db(redis_server) as redis_url,
        fresh_postgres(pg_admin) as database_url,
        Stack(root, redis_url=redis_url, database_url=database_url, env=env) as s,
    ):
        yield s


@pytest.mark.parametrize("service", ["ingest", "enrich", "store"])
def test_sigterm_mid_flow_loses_and_tears_nothing_and_a_restart_carries_on(
    stack: Stack, service: str
) -> None:
    """SIGTERM to one service while files flow: it exits 0 in bounded time, every file is still in the
    inbox, processing/ or archive/ (none failed), stored documents are whole, and after a restart every
    file is archived with its content stored exactly once."""
    engine = sa.create_engine(stack.database_url)
    files = pages(service, FILES_PER_ROUND)
    names = set(files)
    before, _ = consistent(engine)
    # Files keep arriving while the service stops (a fast pipeline would otherwise have filed every
    # file away before the stop): the stop always lands mid-flow.
    dropper = threading.Thread(target=drop_paced, args=(stack, files), daemon=True)
    dropper.start()
    wait_until(
        lambda: round_counts(stack, names)["archive"] >= 3, "the first files archived", FLOW_DEADLINE_SECONDS
    )
    started = time.monotonic()
    codes = stack.stop([service], timeout=STOP_BOUND_SECONDS)
    took = time.monotonic() - started
    dropper.join(FLOW_DEADLINE_SECONDS)
    assert codes == {service: 0}, stack.describe()
    assert took < STOP_BOUND_SECONDS
    counts = round_counts(stack, names)
    assert counts["failed"] == 0
    assert counts["inbox"] + counts["processing"] + counts["archive"] == len(files)
    assert counts["archive"] < len(files), "the stop came too late to catch files in flight"
    documents, torn = consistent(engine)
    assert torn == 0
    assert documents - before >= counts["archive"]  # an archived file has its row (a row may lead its rename)
    if service != "enrich":  # enrich's stop is Celery's warm shutdown, logged by Celery itself
        assert [e for e in stack.events(service) if e.get("event") == f"{service}.stopped"]

    stack.start([service])
    wait_until(
        lambda: round_counts(stack, names)["archive"] == len(files),
        "every file archived after the restart",
        FLOW_DEADLINE_SECONDS,
    )
    assert round_counts(stack, names) == {"inbox": 0, "processing": 0, "archive": len(files), "failed": 0}
    documents, torn = consistent(engine)
    assert (documents - before, torn) == (len(files), 0)
    assert {hashlib.sha256(d).hexdigest() for d in files.values()} <= stored_shas(engine)
    engine.dispose()


def test_dropwire_run_stops_on_sigterm_and_carries_on_after_a_restart(tmp_path: Path) -> None:
    """``dropwire run`` (SQLite, in-process queue) stopped mid-flow exits 0 in bounded time with nothing
    torn; its in-memory queue is gone, so the files it held in processing/ come back through their lease
    after the restart, and every file ends archived and stored once."""
    run = RunProcess(tmp_path)
    run.settings.update({"DROPWIRE_LEASE_SECONDS": "5", "DROPWIRE_HEARTBEAT_SECONDS": "0"})
    run.start()
    files = pages("run", FILES_PER_ROUND)
    for name, data in files.items():
        partial = run.spool / "inbox" / f".{name}.part"
        partial.write_bytes(data)
        partial.rename(run.spool / "inbox" / name)
    wait_until(lambda: run.counts()["archive"] >= 3, "the first files archived", FLOW_DEADLINE_SECONDS)
    started = time.monotonic()
    code = run.stop()
    assert code == 0, run.describe()
    assert time.monotonic() - started < STOP_BOUND_SECONDS
    counts = run.counts()
    assert counts["failed"] == 0
    assert counts["inbox"] + counts["processing"] + counts["archive"] == len(files)
    engine = sa.create_engine(run.database_url)
    assert consistent(engine)[1] == 0
    engine.dispose()

    run.start()
    try:
        wait_until(
            lambda: run.counts()["archive"] == len(files),
            "every file archived after the restart",
            FLOW_DEADLINE_SECONDS,
        )
    finally:
        assert run.stop() == 0
    engine = sa.create_engine(run.database_url)
    documents, torn = consistent(engine)
    assert (documents, torn) == (len(files), 0)
    assert stored_shas(engine) == {hashlib.sha256(d).hexdigest() for d in files.values()}
    engine.dispose()


def test_console_ends_on_sigterm_with_exit_0_through_its_cleanup(tmp_path: Path) -> None:
    """`docker stop` sends SIGTERM: the console shuts down, closes what it opened and exits 0 (uvicorn
    raises the signal again after its shutdown; with the default handler that was exit 143, no cleanup)."""
    from tests.e2e.console_harness import ConsoleProcess

    (tmp_path / "spool").mkdir()
    console = ConsoleProcess(tmp_path, tmp_path / "spool", f"sqlite:///{tmp_path / 'dropwire.db'}").start()
    started = time.monotonic()
    assert console.stop() == 0, console.log.read_text()[-2000:]
    assert time.monotonic() - started < STOP_BOUND_SECONDS
    assert '"console.stopped"' in console.log.read_text()

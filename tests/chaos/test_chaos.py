"""The chaos run: files flow through the three services while their processes, Redis and PostgreSQL fail.

``make chaos`` drops 2,000 files; ``make test`` runs the same test with ``--chaos-files`` at its default
(200). Every good file must end in ``archive/`` and in the database exactly once, every bad file in
``failed/`` with a reason; the test prints ``dropped=… archived=… failed=… lost=… duplicated=…``.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dropwire.corpus import generate
from dropwire.stack import Stack, wait_until
from services.enrich.enrichment import enrich
from services.enrich.entities import load_extractor
from services.enrich.entities.engine import SHIPPED_MODEL
from services.store.db import make_engine, upgrade
from services.store.repository import Repository
from shared.decoding import decode_bytes
from shared.errors import PermanentError
from shared.messages import DocumentEnriched, DocumentReceived
from shared.readmodel import open_engine
from shared.readmodel.journey import journeys_of
from shared.spool import inbox_name
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.chaos, pytest.mark.e2e, pytest.mark.slow]

# About one file in twenty is bad: enough of every kind to meet each fault at least once.
BAD_SHARE = 0.05
# Repeats of earlier bytes under new names (the store's upsert must make them no-ops).
DUPLICATE_SHARE = 0.05
# Files dropped per second: a little under what the pipeline sustains here, so faults hit a moving flow.
DROP_RATE = 10.0
# A claimed file unfinished this long is re-published: short, so a killed ingest's claims come back fast.
LEASE_SECONDS = 20
# Redis hands a killed worker's unacknowledged messages out again after this long.
VISIBILITY_TIMEOUT = 20
# Backpressure bound: keeps the time a message waits in the queue well under the lease.
MAX_QUEUE_DEPTH = 40
# How long PostgreSQL refuses connections (the store must hold its batch and carry on after).
PG_OUTAGE_SECONDS = 8.0
# Two replicas of ingest (one inbox) and of enrich (each a prefork master with two children), one store.
PROCESSES = ("ingest", "ingest#2", "enrich", "enrich#2", "store")
# After the last drop and fault: the lease, the visibility timeout and a backlog all have to run out.
SETTLE_DEADLINE = 240.0


# ---------------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Drop:
    name: str
    data: bytes
    good: bool


def bad_payloads(rng: random.Random) -> list[tuple[str, bytes]]:
    """One file of each kind ingest must refuse; every one is checked against ``decode_bytes`` below."""
    noise = bytes(rng.randrange(256) for _ in range(600))
    text = "Het kabinet vergadert vandaag over de begroting van het ministerie.\n" * 6
    return [
        ("leeg", b""),
        ("witruimte", b"  \n\t \r\n\n   \n"),
        ("plaatje", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + noise),
        ("archief", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + noise),
        ("nul", (text[:101] + "\x00" + text[101:]).encode("ascii")),  # odd length: not UTF-16
        ("kapot", "Één café in Zürich meldt überhaupt niets.\n".encode() * 4 + b"\xc3\x28\xa0\xa1 verder"),
        ("ruis", noise),
    ]


# Names that once stopped ingest (issue 19), given in turn to bad files and to every HOSTILE_EVERY-th
# good file: a backslash, bytes that are not UTF-8, a newline, a name near NAME_MAX, a note's ending.
HOSTILE_PREFIXES = ("", "back\\slash-", os.fsdecode(b"bad\xff-"), "regel\nbreuk-", "E" * 200 + "-")
HOSTILE_EVERY = 7


def hostile(name: str, i: int) -> str:
    return HOSTILE_PREFIXES[i % len(HOSTILE_PREFIXES)] + name


def make_drops(count: int, seed: int) -> list[Drop]:
    """``count`` files in drop order: corpus pages (some repeated under new names) and ~5 % bad files."""
    rng = random.Random(seed)
    bad_count = max(len(bad_payloads(rng)), round(count * BAD_SHARE))
    kinds = bad_payloads(rng)
    bad = [
        Drop(
            hostile(f"kapot-{i:04d}-{kinds[i % len(kinds)][0]}", i)
            + (".error.json" if i % 4 == 3 else ".txt"),
            kinds[i % len(kinds)][1],
            False,
        )
        for i in range(bad_count)
    ]
    good = [
        Drop(hostile(f.name, i // HOSTILE_EVERY) if i % HOSTILE_EVERY == 0 else f.name, f.data, True)
        for i, f in enumerate(generate(count - bad_count, seed=seed, duplicate_share=DUPLICATE_SHARE))
    ]
    drops = good + bad
    rng.shuffle(drops)
    for drop in bad:
        with pytest.raises(PermanentError):
            decode_bytes(drop.data)
    assert len({d.name for d in drops}) == len(drops)
    return drops


Mentions = list[tuple[int, str, int, int, str]]  # (article seq, label, start, end, surface)


def pinned_model(tmp_path: Path) -> Path:
    """A copy of the NER model (``DROPWIRE_NER_MODEL`` or the shipped one) with its lexicon, used by the
    services and the reference alike, so retraining the shipped model during a run changes neither."""
    source = Path(os.environ.get("DROPWIRE_NER_MODEL") or SHIPPED_MODEL)
    target = tmp_path / "ner-model"
    shutil.copytree(source, target)
    return target


def reference(drops: list[Drop], model: Path, enriched_docs: list[DocumentEnriched]) -> dict[str, Mentions]:
    """The mentions of each distinct good content (by sha256) and, under ``<sha256>:articles``, its
    article count, enriched in-process with ``model``; each distinct document is appended to
    ``enriched_docs`` in drop order."""
    extractor = load_extractor(str(model))
    out: dict[str, Mentions] = {}
    now = datetime.now(UTC)
    for data in dict.fromkeys(d.data for d in drops if d.good):
        decoded = decode_bytes(data)
        received = DocumentReceived(
            doc_id=hashlib.sha256(data).hexdigest(),
            claim="00000000__reference.txt",
            name="reference.txt",
            received_at=now,
            mtime=now,
            size=len(data),
            encoding=decoded.encoding,
            text=decoded.text,
        )
        enriched = enrich(received, extractor)
        assert isinstance(enriched, DocumentEnriched), enriched
        enriched_docs.append(enriched)
        out[received.doc_id] = sorted(
            (a.seq, e.label, e.start, e.end, e.text) for a in enriched.articles for e in a.entities
        )
        out[received.doc_id + ":articles"] = [(len(enriched.articles), "", 0, 0, "")]
    return out


# ---------------------------------------------------------------------------------------------- faults


@dataclass
class Chaos:
    """Faults at seeded random moments while files are dropped; what happened is kept in ``done``."""

    stack: Stack
    redis: RedisServer
    pg_admin: str
    database: str
    window: float
    kills: int
    seed: int
    rng: random.Random = field(init=False)
    done: list[str] = field(default_factory=list)
    error: BaseException | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed + 1)

    def plan(self) -> list[tuple[float, str]]:
        actions = [self.rng.choice((*PROCESSES, "enrich-child")) for _ in range(self.kills)]
        actions += ["redis", "postgres"]
        # Faults fall in the first 80 % of the drop window so the flow is still moving around them.
        return sorted((self.rng.uniform(0.05, 0.8) * self.window, action) for action in actions)

    def run(self) -> None:
        started = time.monotonic()
        try:
            for at, action in self.plan():
                delay = started + at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # the chosen moment of the next fault, not a wait for the pipeline
                self.act(action)
                self.done.append(action)
        except BaseException as exc:  # reported by the test's main thread
            self.error = exc

    def act(self, action: str) -> None:
        if action in PROCESSES:
            self.stack.restart(action)  # SIGKILL the process group, start again, wait for /readyz
        elif action == "enrich-child":
            master = self.rng.choice([name for name in PROCESSES if name.startswith("enrich")])
            children = _children(self.stack.procs[master].pid)
            if children:
                os.kill(self.rng.choice(children), signal.SIGKILL)  # the master forks a new one
        elif action == "redis":
            self.redis.restart()
        elif action == "postgres":
            self.postgres_outage()

    def postgres_outage(self) -> None:
        admin = sa.create_engine(self.pg_admin, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS false'))
                conn.execute(
                    sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"),
                    {"d": self.database},
                )
            time.sleep(PG_OUTAGE_SECONDS)  # the outage itself
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS true'))
            admin.dispose()


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


# ---------------------------------------------------------------------------------------------- checks


def original(claim: str) -> str:
    return inbox_name(claim)


def stored_mentions(url: str) -> dict[str, Mentions]:
    engine = sa.create_engine(url)
    out: dict[str, Mentions] = {}
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "select d.sha256, a.seq, e.label, m.start_offset, m.end_offset, m.surface from mentions m"
                    " join articles a on a.id = m.article_id join documents d on d.id = a.document_id"
                    " join entities e on e.id = m.entity_id"
                )
            )
            for sha, *mention in rows:
                out.setdefault(sha, []).append(tuple(mention))  # type: ignore[arg-type]
    finally:
        engine.dispose()
    return {k: sorted(v) for k, v in out.items()}


Grouping = set[frozenset[tuple[str, int]]]


def story_grouping(url: str) -> Grouping:
    """The stories of a database as sets of (document sha256, article seq)."""
    engine = sa.create_engine(url)
    groups: dict[int, set[tuple[str, int]]] = {}
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "select a.story_id, d.sha256, a.seq from articles a join documents d on d.id = a.document_id"
                )
            )
            for story_id, sha, seq in rows:
                groups.setdefault(story_id, set()).add((sha, seq))
    finally:
        engine.dispose()
    return {frozenset(g) for g in groups.values()}


def stored_order(url: str, store_events: list[dict[str, Any]]) -> list[str]:
    """The sha256 of the stored documents in the order the store matched them to stories: its
    transactions in commit order (one ``stored_at`` per transaction, ids rising), and within one the
    documents in arrival order, which its ``store.document`` log lines keep (ids within a transaction
    follow the hashes, not the arrival; a transaction whose lines were lost to a kill keeps id order)."""
    logged: dict[str, int] = {}
    for i, event in enumerate(store_events):
        if event.get("event") == "store.document" and event.get("outcome") == "stored":
            logged.setdefault(str(event.get("doc_id")), i)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("select sha256, stored_at from documents order by id")).all()
    finally:
        engine.dispose()
    batches: dict[Any, list[str]] = {}
    for sha, stored_at in rows:
        batches.setdefault(stored_at, []).append(sha)
    order: list[str] = []
    for shas in batches.values():
        order += sorted(shas, key=lambda sha: (logged.get(sha, len(store_events)), shas.index(sha)))
    return order


def reference_grouping(docs: list[DocumentEnriched], tmp_path: Path, order: list[str]) -> Grouping:
    """The stories a clean store makes of ``docs`` arriving in ``order`` (the chaos run's own commit
    order: which of two similar items comes first may decide a story, faults must not)."""
    rank = {sha: i for i, sha in enumerate(order)}
    docs = sorted(docs, key=lambda d: rank.get(d.doc_id, len(rank)))
    url = f"sqlite:///{tmp_path / 'reference-stories.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        Repository(engine).store(docs)
    finally:
        engine.dispose()
    return story_grouping(url)


# The steps every journey must show (``dropwire trace``), by where the file ended.
ARCHIVED_STEPS = {"dropped", "claimed", "queued", "enrich_started", "enriched", "stored", "archived"}
FAILED_STEPS = {"dropped", "claimed", "failed"}


def incomplete_journeys(
    url: str, spool: Path, archived: list[str], failed: list[str]
) -> dict[str, list[str]]:
    """The claims whose journey misses a step, with the steps it has."""
    engine = open_engine(url)
    try:
        journeys = journeys_of([*archived, *failed], engine=engine, spool_root=spool)
    finally:
        engine.dispose()
    wanted = dict.fromkeys(archived, ARCHIVED_STEPS) | dict.fromkeys(failed, FAILED_STEPS)
    return {
        j.claim: [s.kind for s in j.steps]
        for j in journeys
        if not wanted[j.claim] <= {s.kind for s in j.steps}
    }


def database_counts(url: str) -> dict[str, Any]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            one = lambda q: conn.execute(sa.text(q)).scalar_one()  # noqa: E731
            return {
                "documents": one("select count(*) from documents"),
                "sha256": set(conn.execute(sa.text("select sha256 from documents")).scalars()),
                "articles": one("select count(*) from articles"),
                "mentions": one("select count(*) from mentions"),
                "duplicate_articles": one(
                    "select count(*) from (select 1 from articles group by document_id, seq"
                    " having count(*) > 1) d"
                ),
                "duplicate_mentions": one(
                    "select coalesce(sum(n - 1), 0) from (select count(*) n from mentions"
                    " group by article_id, entity_id, start_offset, end_offset having count(*) > 1) d"
                ),
            }
    finally:
        engine.dispose()


def test_nothing_lost_nothing_doubled_while_processes_redis_and_postgres_fail(
    tmp_path: Path,
    private_redis: RedisServer,
    pg_url: str,
    pg_admin: str,
    chaos_files: int,
    chaos_seed: int,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With two ingest and two enrich replicas (masters and pool children) and the store SIGKILLed at
    random moments, Redis restarted and PostgreSQL refusing connections for a while, every good file is
    archived and stored exactly once (rows, articles and mentions equal to a clean in-process run) and
    every bad file is in failed/ with a reason."""
    started = time.monotonic()
    drops = make_drops(chaos_files, chaos_seed)
    model = pinned_model(tmp_path)
    enriched_docs: list[DocumentEnriched] = []
    expected = reference(drops, model, enriched_docs)
    expected_articles = sum(v[0][0] for k, v in expected.items() if k.endswith(":articles"))
    expected_mentions = sum(len(v) for k, v in expected.items() if not k.endswith(":articles"))
    good_hashes = {hashlib.sha256(d.data).hexdigest() for d in drops if d.good}
    env = {
        "DROPWIRE_LEASE_SECONDS": str(LEASE_SECONDS),
        "DROPWIRE_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "DROPWIRE_MAX_QUEUE_DEPTH": str(MAX_QUEUE_DEPTH),
        "DROPWIRE_NER_MODEL": str(model),
    }
    window = len(drops) / DROP_RATE
    with Stack(
        tmp_path, redis_url=private_redis.url, database_url=pg_url, env=env, services=PROCESSES
    ) as stack:
        chaos = Chaos(
            stack,
            private_redis,
            pg_admin,
            sa.make_url(pg_url).database or "",
            window=window,
            kills=4 + len(drops) // 100,
            seed=chaos_seed,
        )
        faults = threading.Thread(target=chaos.run, name="chaos")
        faults.start()
        t0 = time.monotonic()
        for i, drop in enumerate(drops):
            delay = t0 + i / DROP_RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # the drop rate: operators drop files over time
            stack.drop(drop.name, drop.data)
        faults.join()
        assert chaos.error is None, f"a fault could not be injected: {chaos.error!r}"
        try:
            wait_until(
                lambda: stack.counts()["inbox"] == 0 and stack.counts()["processing"] == 0,
                "inbox/ and processing/ to empty",
                timeout=SETTLE_DEADLINE,
                interval=0.5,
            )
            settled = True
        except AssertionError:
            settled = False
        archived = Counter(original(c) for c in stack.folder("archive"))
        failed_claims = stack.folder("failed")
        failed = Counter(original(c) for c in failed_claims)
        notes = {c: (stack.spool / "failed" / f"{c}.error.json").exists() for c in failed_claims}
        reasons = Counter(stack.error_note(c)["reason"] for c, ok in notes.items() if ok)
        leftover = stack.counts()
        logs = stack.describe(8)
        incomplete = incomplete_journeys(pg_url, stack.spool, stack.folder("archive"), failed_claims)
        store_events = stack.events("store")
    db = database_counts(pg_url)
    stored = stored_mentions(pg_url)
    stories = story_grouping(pg_url)
    stories_expected = reference_grouping(enriched_docs, tmp_path, stored_order(pg_url, store_events))
    split_stories = len(stories - stories_expected)
    differing = {
        sha: {"stored": stored.get(sha, []), "reference": mentions}
        for sha, mentions in expected.items()
        if not sha.endswith(":articles") and stored.get(sha, []) != mentions
    }
    if differing:  # kept with the test's temporary folder, for a look afterwards
        names = {hashlib.sha256(d.data).hexdigest(): d.name for d in drops if d.good}
        (tmp_path / "differing.json").write_text(
            json.dumps({names[k]: v for k, v in differing.items()}, indent=1, ensure_ascii=False)
        )

    good = {d.name for d in drops if d.good}
    bad = {d.name for d in drops if not d.good}
    lost = sorted(n for n in good if archived[n] == 0) + sorted(n for n in bad if failed[n] == 0)
    misfiled = sorted(n for n in good if failed[n]) + sorted(n for n in bad if archived[n])
    unexpected = sorted(set(archived) - good) + sorted(set(failed) - bad)
    duplicated = (
        sum(n - 1 for n in archived.values() if n > 1)
        + sum(n - 1 for n in failed.values() if n > 1)
        + max(0, db["documents"] - len(good_hashes))
        + max(0, db["articles"] - expected_articles)
        + max(0, db["mentions"] - expected_mentions)
        + db["duplicate_articles"]
        + db["duplicate_mentions"]
    )
    line = (
        f"dropped={len(drops)} archived={sum(archived.values())} failed={sum(failed.values())} "
        f"lost={len(lost)} duplicated={duplicated} "
        f"(good={len(good)} distinct={len(good_hashes)} bad={len(bad)} documents={db['documents']} "
        f"articles={db['articles']}/{expected_articles} mentions={db['mentions']}/{expected_mentions} "
        f"differing_documents={len(differing)} stories={len(stories)}/{len(stories_expected)} "
        f"split_or_joined_stories={split_stories} incomplete_journeys={len(incomplete)} seed={chaos_seed} faults={dict(Counter(chaos.done))} seconds={time.monotonic() - started:.0f})"
    )
    with capsys.disabled():  # on the terminal whatever the capture mode, like the summary line
        print(f"\nchaos: {line}")
    request.node.user_properties.append(("chaos", line))

    detail = f"{line}\nleft over: {leftover}\n{logs}"
    assert settled, f"inbox/ or processing/ never emptied\n{detail}"
    assert lost == [], f"lost: {lost[:20]}\n{detail}"
    assert misfiled == [], f"misfiled: {misfiled[:20]}\n{detail}"
    assert unexpected == [], f"unexpected names: {unexpected[:20]}\n{detail}"
    assert duplicated == 0, detail
    assert incomplete == {}, f"journeys with a missing step: {dict(list(incomplete.items())[:5])}"
    assert all(notes.values()), f"failed/ entries without a note: {[c for c, ok in notes.items() if not ok]}"
    assert set(reasons) <= {"empty", "binary", "undecodable"}, reasons
    assert db["sha256"] == good_hashes
    assert stories == stories_expected, (
        f"{split_stories} stories differ from a clean run's grouping: "
        f"{sorted(map(sorted, stories - stories_expected))[:5]}"
    )
    assert (db["articles"], db["mentions"]) == (expected_articles, expected_mentions), (
        f"{len(differing)} documents differ from the reference: {tmp_path / 'differing.json'}"
    )

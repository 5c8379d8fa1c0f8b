"""The work of one enrich batch, as a worker process does it, and the pool of those processes.

``work(payloads)`` runs in a worker process: it decodes each ``DocumentReceived``, calls
``enrichment.enrich_batch`` (one NER pass over the batch's articles) and returns what the consumer
needs to finish the batch in the parent: the one store message (a ``DocumentEnriched``, or a
``DocumentsEnriched`` for several), the failed ``DocumentDone`` of each document that cannot be
enriched, and a small summary per document for the metrics and logs (the parent keeps every metric,
so the worker processes need no multiprocess metrics files).

The extractor is loaded once in the parent (``install``) before the pool forks: the processes share
the model's weights copy-on-write, and a process that replaces a dead or recycled one is ready at once.
"""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from typing import Any

from structlog.contextvars import bound_contextvars

from services.enrich.enrichment import Extractor, enrich_batch, failure
from services.enrich.journey import with_enrich_steps
from shared.celery_app import TASK_STORE, TASK_STORE_BATCH
from shared.errors import BadMessage
from shared.logging import get_logger
from shared.messages import DocumentDone, DocumentEnriched, DocumentReceived, DocumentsEnriched, decode
from shared.metrics import Metrics
from shared.settings import ProvenanceSettings

log = get_logger(__name__)
STAGE = "enrich"

_extractor: Callable[[], Extractor] | None = None  # set in the parent before the pool forks
_provenance = True  # add enrich's journey steps to each result (DROPWIRE_PROVENANCE)


def install(extractor: Callable[[], Extractor], *, provenance: bool | None = None) -> None:
    """Make ``extractor()`` the one ``work`` calls (in this process and in those forked after);
    ``provenance`` None reads ``DROPWIRE_PROVENANCE``."""
    global _extractor, _provenance
    _extractor = extractor
    _provenance = ProvenanceSettings().provenance if provenance is None else provenance


@dataclass(frozen=True)
class Outcome:
    """What became of one message of a batch, for the parent's metrics and log lines."""

    kind: str  # "enriched", "failed" (a failed DocumentDone sent), "dropped" (no claim to report to)
    doc_id: str | None = None
    claim: str | None = None
    reason: str | None = None
    detail: str | None = None
    heartbeat: bool = False
    roles: tuple[str, ...] = ()  # one per article
    labels: tuple[str, ...] = ()  # one per entity
    warnings: tuple[str, ...] = ()  # the kind of each parse warning
    first_warning: str | None = None
    truncated: bool = False


@dataclass(frozen=True)
class BatchResult:
    """The messages that finish a batch, and an ``Outcome`` per message, in the batch's order."""

    outcomes: list[Outcome]
    store: tuple[str, str] | None  # (task name, payload) of the one store message, if any
    failures: list[str] = field(default_factory=list)  # payloads for TASK_STORE_FAILURE
    seconds: float = 0.0  # time spent enriching the batch
    pid: int = 0  # the worker process that enriched it


def work(payloads: Sequence[str]) -> BatchResult:
    """Decode and enrich one batch (runs in a worker process)."""
    assert _extractor is not None, "pool.install() was not called"
    started = time.perf_counter()
    started_at = datetime.now(UTC)
    decoded: list[DocumentReceived | BadMessage] = []
    for payload in payloads:
        try:
            decoded.append(decode(DocumentReceived, payload))
        except BadMessage as exc:
            decoded.append(exc)
    batch = [d for d in decoded if isinstance(d, DocumentReceived)]
    results = iter(enrich_batch(batch, _extractor()) if batch else [])
    outcomes: list[Outcome] = []
    enriched: list[DocumentEnriched] = []
    failures: list[str] = []
    for item in decoded:
        if isinstance(item, BadMessage):
            outcomes.append(Outcome("dropped", reason=item.reason, detail=str(item)))
            continue
        result = next(results)
        if _provenance and not item.heartbeat:
            # One NER pass served the whole batch: each document's step carries the batch's time.
            try:
                result = with_enrich_steps(
                    result, started_at, time.perf_counter() - started, batch=len(batch)
                )
            except Exception as exc:  # judged as the Celery pool judges it (a transient one is raised)
                result = failure(item, exc)
        if isinstance(result, DocumentDone):
            failures.append(result.to_json())
            outcomes.append(_failed(result))
        else:
            enriched.append(result)
            outcomes.append(_enriched(result))
    return BatchResult(
        outcomes, store_message(enriched), failures, time.perf_counter() - started, os.getpid()
    )


def store_message(enriched: Sequence[DocumentEnriched]) -> tuple[str, str] | None:
    """The one message that hands a batch's documents to the store."""
    if not enriched:
        return None
    if len(enriched) == 1:
        return TASK_STORE, enriched[0].to_json()
    return TASK_STORE_BATCH, DocumentsEnriched(items=tuple(enriched)).to_json()


def _enriched(result: DocumentEnriched) -> Outcome:
    return Outcome(
        "enriched",
        doc_id=result.doc_id,
        claim=result.claim,
        heartbeat=result.heartbeat,
        roles=tuple(a.role for a in result.articles),
        labels=tuple(e.label for a in result.articles for e in a.entities),
        warnings=tuple(w.kind for w in result.warnings),
        first_warning=result.warnings[0].text if result.warnings else None,
        truncated=result.truncated,
    )


def _failed(done: DocumentDone) -> Outcome:
    return Outcome(
        "failed", doc_id=done.doc_id, claim=done.claim, reason=done.reason or "internal", detail=done.detail
    )


def record(metrics: Metrics, outcome: Outcome, task_id: str | None = None, *, document: bool = True) -> None:
    """The metrics and log lines of one document's outcome (in the parent, which keeps the metrics).

    ``document`` False (a heartbeat, by its message header): counted by ``dropwire_heartbeats_total``,
    not by the ``tasks_*`` document counters, so that started = completed + in progress holds.
    """
    m = metrics
    with bound_contextvars(doc_id=outcome.doc_id, claim=outcome.claim):
        if outcome.kind == "dropped":
            # Nothing to report to: without a claim no file can be named. The lease re-publishes it.
            log.error("enrich.bad_message", error=outcome.detail, task_id=task_id)
            m.dead_letters.labels(stage=STAGE, reason=outcome.reason or "bad_message").inc()
            if document:  # taken up as a document (its batch started it): it ends here
                m.tasks_completed.labels(stage=STAGE, outcome="failed").inc()
            return
        if outcome.kind == "failed":
            reason = outcome.reason or "internal"
            if document:
                m.task_failures.labels(stage=STAGE, reason=reason).inc()
                m.dead_letters.labels(stage=STAGE, reason=reason).inc()
                m.tasks_completed.labels(stage=STAGE, outcome="failed").inc()
            else:  # an alarm of its own (the stage is broken), not a document's failure
                m.heartbeats.labels(stage=STAGE, outcome="failed").inc()
            log.warning("enrich.failed", reason=reason, detail=outcome.detail)
            return
        if not outcome.heartbeat:
            # A heartbeat's article is synthetic: it proves the pipeline moves but is not news.
            for role in outcome.roles:
                m.articles.labels(role=role).inc()
            for label in outcome.labels:
                m.entities.labels(label=label).inc()
            m.parsed_documents.inc()
            if outcome.warnings:
                m.warned_documents.inc()
            for kind in outcome.warnings:
                m.parse_warnings.labels(kind=kind).inc()
        if document:
            m.tasks_completed.labels(stage=STAGE, outcome="ok").inc()
        else:
            m.heartbeats.labels(stage=STAGE, outcome="ok").inc()
        m.last_success.labels(stage=STAGE).set(time.time())
        (log.info if document else log.debug)(  # heartbeats: DEBUG, as in the Celery pool
            "enrich.done",
            articles=len(outcome.roles),
            entities=len(outcome.labels),
            warnings=len(outcome.warnings),
        )
        if outcome.warnings:
            log.warning(
                "enrich.parse_warnings",
                kinds=sorted(set(outcome.warnings)),
                count=len(outcome.warnings),
                first_kind=outcome.warnings[0],
                first_text=outcome.first_warning,
                truncated=outcome.truncated,
            )


def _child_start(parent: int) -> None:
    # Ctrl-C reaches the whole process group: the parent decides when its workers stop. SIGTERM to the
    # group ends a worker at once (its batch goes back to the queue); the parent's handler, inherited
    # through the fork, would keep it working unseen.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with(parent)


# prctl(2) option: the signal the kernel sends this process when its parent exits (Linux).
PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """End this worker when ``parent`` dies. A parent killed outright (SIGKILL, the OOM killer) never
    shuts its pool down, and its workers, each waiting on a queue their siblings also hold open,
    would stay for good with their share of the model (found as orphans after killed test runs)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: such orphans are left to the service manager
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _freeze_once() -> None:
    """Move what the parent holds now (above all the loaded model) out of the collector's sight before
    the first fork: a child's collections would otherwise write to the header of every object they
    traverse, and each such write copies a page the child shared with the parent. Done once only: what
    the parent frees after the freeze is never collected, so refreezing at every recycle would hold
    each cycle's garbage for good."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


def _ready() -> bool:
    return True


class InThread(Executor):
    """An executor that runs each call at once in the calling thread (``--workers 0``: no processes)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def start_pool(workers: int) -> Executor:
    """``workers`` forked processes, started now (each answers once); 0: ``InThread``."""
    if workers == 0:
        return InThread()
    _freeze_once()
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("fork"), initializer=_child_start, initargs=(os.getpid(),)
    )
    for future in [pool.submit(_ready) for _ in range(workers)]:
        future.result()
    return pool

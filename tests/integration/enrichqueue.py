"""What the enrich tests share: a numbered one-line document, the store queue read back as documents,
and enrich batch consumers run in threads (stopped and joined by ``EnrichConsumers.stop``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis

from services.enrich.batching import EnrichConsumer
from shared.celery_app import QUEUE_STORE, TASK_STORE, TASK_STORE_BATCH, create_app
from shared.messages import DocumentDone, DocumentEnriched, DocumentReceived, DocumentsEnriched, decode
from shared.metrics import create_metrics
from tests.documents import received_text
from tests.integration.badinput import queued


def numbered(number: int, word: str = "gewoon") -> DocumentReceived:
    """Document ``number`` (claim ``c0001__p.txt``…): one article whose body holds ``word`` (a marker
    an extractor under test can react to)."""
    text = f"Nieuws {number}\nZWOLLE (ANP) - In Zwolle is {word} bericht {number} verschenen.\n"
    return received_text(text, claim=f"c{number:04d}__p.txt", name=f"p{number}.txt")


@dataclass
class StoreQueue:
    """The store queue's messages as documents, in queue order."""

    #: Each document with the task that carries it (a batch's documents: ``TASK_STORE``).
    entries: list[tuple[str, DocumentEnriched | DocumentDone]] = field(default_factory=list)
    #: Documents per enriched message (1 for a single ``TASK_STORE``).
    sizes: list[int] = field(default_factory=list)

    @property
    def claims(self) -> list[str]:
        """Claims of the enriched documents."""
        return [d.claim for task, d in self.entries if task == TASK_STORE]

    @property
    def failures(self) -> list[DocumentDone]:
        """The dead letters (failed ``DocumentDone`` messages)."""
        return [d for task, d in self.entries if isinstance(d, DocumentDone)]


def store_queue(client: redis.Redis) -> StoreQueue:
    """What the store queue holds now (read without consuming)."""
    out = StoreQueue()
    for task, payload in queued(client, QUEUE_STORE):
        if task == TASK_STORE_BATCH:
            items = decode(DocumentsEnriched, payload).items
            out.entries += [(TASK_STORE, item) for item in items]
            out.sizes.append(len(items))
        elif task == TASK_STORE:
            out.entries.append((task, decode(DocumentEnriched, payload)))
            out.sizes.append(1)
        else:
            out.entries.append((task, decode(DocumentDone, payload)))
    return out


class EnrichConsumers:
    """Batch consumers on ``redis_url``, each in a daemon thread, all stopped together."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(
        self, send_with: Callable[[Any], Callable[[str, str], None]] | None = None, **kw: Any
    ) -> EnrichConsumer:
        """A running consumer (``kw``: ``EnrichConsumer``'s options); ``send_with(app)`` replaces its
        publisher."""
        app = create_app("test-enrich", self.redis_url, visibility_timeout=3600)
        made = EnrichConsumer(
            app,
            metrics=create_metrics(),
            stopping=self.stopping,
            send=send_with(app) if send_with else None,
            **kw,
        )
        thread = threading.Thread(target=made.run, daemon=True)
        thread.start()
        self.threads.append(thread)
        assert made.consuming.wait(10)
        return made

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(30)

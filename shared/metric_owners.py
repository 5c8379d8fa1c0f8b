"""Which service exports which metric family: each registers only what it measures.

``create_metrics(service=...)`` keeps every family as an attribute (code paths shared between
services may still touch one) but leaves the ones another service measures off the exported
registry; in multiprocess mode (the prefork enrich worker) ``ExportedFilter`` drops them from the
merged files at scrape time. ``service=None`` (``dropwire run``, the reference docs) exports all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

# Families every service exports: its build, and its own stage's work items.
_COMMON = frozenset(
    {
        "build_info",
        "tasks_started",
        "tasks_in_progress",
        "tasks_completed",
        "task_failures",
        "task_duration",
        "last_success",
        "retries",
        "dead_letters",
    }
)
OWNERS: dict[str, frozenset[str]] = {
    "ingest": _COMMON
    | {
        "files_detected",
        "files_claimed",
        "files_archived",
        "files_failed",
        "files_waiting",
        "ingested_bytes",
        "ingest_paused",
        "queue_depth",  # the one exporter: sum by (queue) over all jobs is the depth
        "end_to_end_latency",
        "heartbeat_age",  # the whole round trip, back on ingest.done
    },
    "enrich": _COMMON
    | {"articles", "entities", "parsed_documents", "warned_documents", "parse_warnings", "heartbeats"},
    "store": _COMMON
    | {"store_batch_documents", "store_rows", "duplicates", "story_articles", "heartbeat_age", "heartbeats"},
}


def unregister_foreign(registry: Any, families: dict[str, Any], service: str) -> frozenset[str]:
    """Take the families ``service`` does not measure off ``registry``; the exported metric names."""
    owned = OWNERS[service]
    exported: set[str] = set()
    for attr, metric in families.items():
        if attr in owned:
            exported.add(metric._name)
        else:
            registry.unregister(metric)
    return frozenset(exported)


class ExportedFilter:
    """A collector yielding only the families named in ``names`` from ``inner`` (multiprocess mode)."""

    def __init__(self, inner: Any, names: Iterable[str]) -> None:
        self.inner = inner
        self.names = frozenset(names)

    def collect(self) -> Iterator[Any]:
        for family in self.inner.collect():
            if family.name in self.names:
                yield family

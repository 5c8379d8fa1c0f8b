"""Multiprocess metrics (Celery prefork workers): the shared folder, dead children, the merged scrape.

Each child writes its values to files in ``PROMETHEUS_MULTIPROC_DIR``; the parent's ``/metrics``
(``shared.observability``) merges them on every scrape and drops the live gauges of children that
are gone, even ones killed outright.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from prometheus_client import CollectorRegistry, values
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.multiprocess import mark_process_dead as _mark_process_dead

from shared.metrics import Metrics

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_dir(path: str | os.PathLike[str]) -> Path:
    """Empty (or create) ``path`` and make every metric created from now on file-backed in it.

    Call it in the parent process before ``create_metrics()``. The variable is set for the processes
    this one forks or spawns, and prometheus-client's value class is switched even if the library was
    imported earlier (the import-order trap: it reads the variable once, at import time).
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    os.environ[MULTIPROC_ENV] = str(folder)
    if not getattr(values.ValueClass, "_multiprocess", False):
        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    return folder


def multiprocess_dir() -> Path | None:
    """The folder of file-backed metric values in force for this process, or None."""
    path = os.environ.get(MULTIPROC_ENV)
    if path and getattr(values.ValueClass, "_multiprocess", False):
        return Path(path)
    return None


def mark_process_dead(pid: int, path: str | os.PathLike[str] | None = None) -> None:
    """Drop the live gauges of a worker process that exited (Celery ``worker_process_shutdown``)."""
    folder = path if path is not None else os.environ.get(MULTIPROC_ENV)
    if not folder:
        return
    _mark_process_dead(pid, str(folder))  # type: ignore[no-untyped-call]


_LIVE_GAUGE_FILE = re.compile(r"^gauge_live\w+?_(\d+)\.db$")


def reap_dead_processes(path: str | os.PathLike[str]) -> list[int]:
    """``mark_process_dead`` for every process whose live-gauge file remains but which no longer runs.

    A child killed outright (SIGKILL, the OOM killer) never runs its shutdown hook; without this its
    last in-progress count would be summed in for ever. Run before each scrape. Returns the pids reaped.
    """
    reaped = []
    for entry in Path(path).glob("gauge_live*_*.db"):
        match = _LIVE_GAUGE_FILE.match(entry.name)
        if match is None:
            continue
        pid = int(match.group(1))
        if pid != os.getpid() and not _alive(pid):
            mark_process_dead(pid, path)
            reaped.append(pid)
    return sorted(set(reaped))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process under that pid: not ours to reap
        return True
    return True


def scrape_registry(metrics: Metrics, path: str | os.PathLike[str] | None = None) -> CollectorRegistry:
    """The registry ``/metrics`` renders: the merged files in multiprocess mode, else the service's own."""
    folder = Path(path) if path is not None else multiprocess_dir()
    if folder is None:
        return metrics.registry
    registry = CollectorRegistry()
    if metrics.exported is None:
        MultiProcessCollector(registry, path=str(folder))  # type: ignore[no-untyped-call]
    else:  # the merged files hold every family a process created; export this service's own
        from shared.metric_owners import ExportedFilter

        merged = MultiProcessCollector(None, path=str(folder))  # type: ignore[no-untyped-call]
        registry.register(ExportedFilter(merged, metrics.exported))
    # process_* and python_* of the process serving /metrics (in a prefork worker: the parent).
    from shared.metrics import collect_process_metrics

    collect_process_metrics(registry)
    return registry

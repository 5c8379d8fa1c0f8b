"""Parse warnings after the parser: counted by the enrich handler, stored with the document, shown by status."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from dropwire.status import _database_status
from services.enrich.task import EnrichHandler, ExtractorSlot
from services.store.db import make_engine, upgrade
from services.store.repository import Repository
from shared.celery_app import TASK_STORE
from shared.messages import WARNING_KINDS, DocumentEnriched, DocumentReceived, decode
from shared.metrics import create_metrics
from tests.documents import PassThrough, received_text

pytestmark = pytest.mark.unit

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
NOW = datetime(2017, 10, 14, 12, 0, tzinfo=UTC)


def received(name: str, *, heartbeat: bool = False) -> DocumentReceived:
    text = (PAGES / name).read_text(encoding="utf-8")
    return received_text(text, claim=f"abcd__{name}", name=name, at=NOW, heartbeat=heartbeat)


def run_enrich(*docs: DocumentReceived) -> tuple[list[DocumentEnriched], str]:
    """Each document through the enrich handler; the messages it sent and the metrics text."""
    sent: list[tuple[str, str]] = []
    metrics = create_metrics()
    handler = EnrichHandler(
        ExtractorSlot(PassThrough), lambda task, payload: sent.append((task, payload)), metrics
    )
    for doc in docs:
        handler.process(doc)
    enriched = [decode(DocumentEnriched, payload) for task, payload in sent if task == TASK_STORE]
    return enriched, generate_latest(metrics.registry).decode()


def sample(metrics: str, name: str) -> float:
    (line,) = [line for line in metrics.splitlines() if line.startswith(name + " ")]
    return float(line.split()[-1])


def test_warning_kinds_are_counted_from_the_start() -> None:
    """Every warning kind has its series at 0 before any page was parsed."""
    text = generate_latest(create_metrics().registry).decode()
    for kind in WARNING_KINDS:
        assert sample(text, f'dropwire_parse_warnings_total{{kind="{kind}"}}') == 0


def test_enrich_sends_the_warnings_and_counts_them() -> None:
    """The store message carries the page's warnings; the counters count pages, warned pages and kinds."""
    (clean, warned, truncated), metrics = run_enrich(
        received("older_layout.txt"),
        received("unknown_furniture_above_headline.txt"),
        received("truncated_last_item.txt"),
    )
    assert clean.warnings == () and not clean.truncated
    assert [w.kind for w in warned.warnings] == ["unplaced", "unplaced"]
    assert truncated.truncated and truncated.articles[-1].truncated
    assert sample(metrics, "dropwire_parsed_documents_total") == 3
    assert sample(metrics, "dropwire_warned_documents_total") == 2
    assert sample(metrics, 'dropwire_parse_warnings_total{kind="unplaced"}') == 2
    assert sample(metrics, 'dropwire_parse_warnings_total{kind="truncated"}') == 1


def test_heartbeats_are_not_counted_as_parsed_pages() -> None:
    """A heartbeat document proves the pipeline moves; it is not a page whose layout matters."""
    _, metrics = run_enrich(received("unknown_place_date_layout.txt", heartbeat=True))
    assert sample(metrics, "dropwire_parsed_documents_total") == 0
    assert sample(metrics, "dropwire_warned_documents_total") == 0


def test_warnings_are_stored_with_the_document_and_shown_by_status(sqlite_url: str) -> None:
    """documents.parse_warnings holds the warnings as JSON (NULL for a clean page); status lists them."""
    enriched, _ = run_enrich(received("older_layout.txt"), received("unknown_place_date_layout.txt"))
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        repo = Repository(engine)
        repo.store(enriched)
        count, latest = repo.warned_documents()
    finally:
        engine.dispose()
    assert count == 1
    (doc,) = latest
    assert doc.name == "unknown_place_date_layout.txt"
    assert doc.warnings == [{"kind": "no_dateline", "text": "Zeeuws nieuws van vandaag", "article": 0}]
    status = _database_status(sqlite_url)
    assert status["warned_documents"] == 1
    assert status["parse_warnings"][0]["warnings"][0]["kind"] == "no_dateline"

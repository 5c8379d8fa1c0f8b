"""The console's own metrics, on the same explicit registry as the shared ones (build info etc.)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

# Page and API answers take 1 ms (a health check) to a few hundred ms (a search over 100,000 articles).
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# Routes are labelled by their template ("/documents/{sha256}"), never by a concrete path: bounded.
STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx")


@dataclass(frozen=True)
class ConsoleMetrics:
    requests: Counter
    duration: Histogram


def create_console_metrics(registry: CollectorRegistry) -> ConsoleMetrics:
    return ConsoleMetrics(
        requests=Counter(
            "dropwire_console_requests_total",
            "Console HTTP requests answered, by route template and status class.",
            ["route", "status"],
            registry=registry,
        ),
        duration=Histogram(
            "dropwire_console_request_seconds",
            "Time to answer one console request, by route template.",
            ["route"],
            buckets=REQUEST_BUCKETS,
            registry=registry,
        ),
    )

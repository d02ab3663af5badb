"""The service's Prometheus series, on a registry of its own (one per app, so tests can build several).

Counters move once per batch by the batch's counts, never once per event: the hot path stays cheap.
Labels are event types, reasons, routes and statuses; never a customer id or anything else per customer.
"""

from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST


class ExperienceMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.accepted = Counter("rapport_events_accepted", "Events stored, by type", ["type"], registry=r)
        self.duplicates = Counter(
            "rapport_events_duplicate", "Events already stored, answered as duplicates", registry=r
        )
        self.rejected = Counter(
            "rapport_events_rejected",
            "Events refused, by reason (a request refused before its events were read counts once)",
            ["reason"],
            registry=r,
        )
        self.dead_lettered = Counter(
            "rapport_events_dead_lettered",
            "Intake records sent to the dead-letter topic, by reason",
            ["reason"],
            registry=r,
        )
        self.relayed = Counter("rapport_events_relayed", "Events published to cx.events.v1", registry=r)
        self.relay_backlog = Gauge(
            "rapport_relay_backlog", "Stored events not yet published to cx.events.v1 (read at scrape)", registry=r
        )
        self.append_seconds = Histogram(
            "rapport_append_batch_seconds",
            "Time to append one batch to the event store",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=r,
        )
        self.http_requests = Counter(
            "rapport_http_requests", "HTTP requests, by route template and status", ["route", "status"], registry=r
        )

    def count_accepted(self, types: Iterable[str], duplicates: int) -> None:
        for event_type, count in Tally(types).items():
            self.accepted.labels(event_type).inc(count)
        if duplicates:
            self.duplicates.inc(duplicates)

    def count_rejected(self, reasons: Iterable[str]) -> None:
        for reason, count in Tally(reasons).items():
            self.rejected.labels(reason).inc(count)

    def count_dead_lettered(self, reasons: Iterable[str]) -> None:
        for reason, count in Tally(reasons).items():
            self.dead_lettered.labels(reason).inc(count)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

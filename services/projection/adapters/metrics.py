"""The projection's Prometheus series, on a registry of its own (one per app or worker, so tests can build several).

Counters move once per batch by the batch's counts, never once per event: the consumer is the hot path.
Labels are partitions, routes and statuses; never a customer id or anything else per customer.
"""

import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, start_http_server
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
_BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_FRESHNESS_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class ProjectionMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.batches = Counter("rapport_projection_batches", "Batches projected and committed", registry=r)
        self.applied = Counter("rapport_projection_events_applied", "Events folded into views", registry=r)
        self.duplicates = Counter(
            "rapport_projection_duplicates_skipped", "Re-delivered events skipped (already applied)", registry=r
        )
        self.undecodable = Counter(
            "rapport_projection_undecodable", "Records on cx.events.v1 that could not be read", registry=r
        )
        self.lag = Gauge(
            "rapport_projection_lag", "Records behind the partition's end (highwater minus next offset)",
            ["partition"], registry=r,
        )  # fmt: skip
        self.batch_seconds = Histogram(
            "rapport_projection_batch_seconds", "Time to project one batch, decode to publish", registry=r,
            buckets=_BATCH_BUCKETS,
        )  # fmt: skip
        self.freshness = Histogram(
            "rapport_projection_freshness_seconds",
            "Accepted (event stored) to visible (view committed); each batch observes its oldest and newest event",
            registry=r, buckets=_FRESHNESS_BUCKETS,
        )  # fmt: skip
        self.published = Counter("rapport_views_published", "View records published, by kind", ["kind"], registry=r)
        self.http_requests = Counter(
            "rapport_http_requests", "HTTP requests, by route template and status", ["route", "status"], registry=r
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def serve(self, host: str, port: int) -> tuple[WSGIServer, threading.Thread]:
        """Expose the registry on its own port (for worker processes without the HTTP API)."""
        return start_http_server(port, addr=host, registry=self.registry)

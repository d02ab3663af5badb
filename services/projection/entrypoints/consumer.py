"""The consumer loop: read `cx.events.v1` in batches, project each batch, resume from PostgreSQL's offsets."""

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from services.projection.adapters.metrics import ProjectionMetrics
from services.projection.adapters.ports import ViewStore
from services.projection.entrypoints.batch_size import BatchSize
from services.projection.entrypoints.placement import OffsetsFromDatabase, position_of, still_ours
from services.projection.handlers.project_batch import BatchOutcome, ProjectBatch

log = structlog.get_logger(__name__)

# Kafka's committed offsets are only a hint for tools (lag dashboards, `rapport status`); PostgreSQL holds the
# offsets that count. Committed at most this often while busy, and whenever the worker goes idle: a commit per
# batch was a broker round trip on every batch's critical path.
HINT_INTERVAL_S = 1.0


@dataclass
class ConsumerStatus:
    """What readiness and metrics need to know about a running consumer: how far behind each partition is."""

    next_offsets: dict[TopicPartition, int] = field(default_factory=dict)  # assigned partitions only
    lag: dict[int, int] = field(default_factory=dict)  # partition -> highwater minus next offset, once known
    # Partitions placed one record below their stored offset: (that offset, the position it must hold).
    to_verify: dict[TopicPartition, tuple[int, int]] = field(default_factory=dict)

    def total_lag(self) -> int | None:
        """Records behind over every assigned partition; None until every one's end is known."""
        if not self.next_offsets or len(self.lag) < len(self.next_offsets):
            return None
        return sum(self.lag.values())


def create_consumer(client_options: dict[str, Any], group: str, batch_timeout_ms: int) -> AIOKafkaConsumer:
    """`client_options`: bootstrap servers and security, from kafka_client_options()."""
    return AIOKafkaConsumer(
        **client_options,
        group_id=group,
        enable_auto_commit=False,  # PostgreSQL holds the real offsets; Kafka's are only a hint for tools
        auto_offset_reset="earliest",
        fetch_max_wait_ms=max(batch_timeout_ms, 10),
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )


class ProjectionConsumer:
    """One worker in the consumer group; run() until cancelled."""

    def __init__(
        self, consumer: AIOKafkaConsumer, store: ViewStore, project: ProjectBatch, *,
        topic: str, group: str, batch_max_records: int, batch_timeout_ms: int, batch_lagging_max_records: int = 0,
        status: ConsumerStatus | None = None, metrics: ProjectionMetrics | None = None,
    ) -> None:  # fmt: skip
        self._consumer, self._store, self._project = consumer, store, project
        self._topic, self._group = topic, group
        self._size, self._timeout_ms = BatchSize(batch_max_records, batch_lagging_max_records), batch_timeout_ms
        self._lock = asyncio.Lock()
        self._hints: dict[TopicPartition, int] = {}  # offsets projected, not yet committed to Kafka
        self._hinted_at = 0.0
        self.status = status or ConsumerStatus()
        self._metrics = metrics or ProjectionMetrics()

    async def run(self) -> None:
        listener = OffsetsFromDatabase(self._consumer, self._store, self._group, self._lock, self.status, self._metrics)
        self._consumer.subscribe([self._topic], listener=listener)
        while True:
            await self._position_unplaced(listener)
            fetched = await self._consumer.getmany(timeout_ms=self._timeout_ms, max_records=self._size.limit)
            self._size.observe(sum(len(records) for records in fetched.values()))
            async with self._lock:
                if self.status.to_verify:
                    fetched = await self._verified(fetched)
                batch = still_ours(fetched, self.status.next_offsets)
                if not batch:
                    self._measure_lag()  # an idle fetch still brings the partitions' ends
                    await self._idle()
                    continue
                started = time.perf_counter()
                outcome = await self._project({tp.partition: records for tp, records in batch.items()})
                next_offsets = {tp: records[-1].offset + 1 for tp, records in batch.items()}
                self._hints.update(next_offsets)
                if time.monotonic() - self._hinted_at >= HINT_INTERVAL_S:
                    await self._commit_hint()
                self.status.next_offsets.update(next_offsets)
                self._measure_lag()
                self._observe(outcome, time.perf_counter() - started)

    async def _verified(self, fetched: dict[TopicPartition, list[Any]]) -> dict[TopicPartition, list[Any]]:
        """Check each partition placed one record below its stored offset against that record: the one the views
        last took from it goes, and the rest follows; any other means the log changed under the offset (a broker
        that came back empty and was refilled), so the partition is read again from its beginning."""
        for tp, records in list(fetched.items()):
            check = self.status.to_verify.get(tp)
            if check is None or not records:
                continue
            del self.status.to_verify[tp]
            offset, position = check
            if records[0].offset == offset and position_of(records[0]) == position:
                fetched[tp] = records[1:]
                self.status.next_offsets[tp] = offset + 1
                continue
            beginning = (await self._consumer.beginning_offsets([tp]))[tp]
            log.warning(
                "partition log changed under the stored offset; reading it again from its beginning",
                partition=tp.partition, stored_offset=offset + 1, found_offset=records[0].offset, beginning=beginning,
            )  # fmt: skip
            self._consumer.seek(tp, beginning)
            self.status.next_offsets[tp] = beginning
            fetched[tp] = []
        return fetched

    async def _position_unplaced(self, listener: OffsetsFromDatabase) -> None:
        """Place partitions the listener could not: aiokafka only logs a listener's failure (say, a database
        connection lost mid-rebalance), and such a partition would then never be projected until the next
        rebalance. Placing it here makes a failure reach run_worker, which starts the worker again."""
        unplaced = [tp for tp in self._consumer.assignment() if tp not in self.status.next_offsets]
        if unplaced:
            async with self._lock:
                await listener.on_partitions_assigned(unplaced)

    def _measure_lag(self) -> None:
        """End offset (the highwater the last fetch saw) minus the next offset to project, per assigned partition."""
        for tp, next_offset in self.status.next_offsets.items():
            highwater = self._consumer.highwater(tp)
            if highwater is not None:
                lag = max(0, highwater - next_offset)
                self.status.lag[tp.partition] = lag
                self._metrics.lag.labels(str(tp.partition)).set(lag)

    def _observe(self, outcome: BatchOutcome, seconds: float) -> None:
        metrics = self._metrics
        metrics.batches.inc()
        metrics.applied.inc(outcome.applied)
        metrics.batch_seconds.observe(seconds)
        if outcome.duplicates:
            metrics.duplicates.inc(outcome.duplicates)
        if outcome.undecodable:
            metrics.undecodable.inc(outcome.undecodable)
        for kind, count in (("customer", outcome.views), ("tombstone", outcome.erased), ("account", outcome.accounts)):
            if count:
                metrics.published.labels(kind).inc(count)
        for seconds_to_visible in outcome.freshness:
            metrics.freshness.observe(seconds_to_visible)
        log.info(
            "batch projected", events=outcome.records, applied=outcome.applied, duplicates=outcome.duplicates,
            customers=outcome.customers, views=outcome.views, accounts=outcome.accounts, erased=outcome.erased,
            undecodable=outcome.undecodable, duration_ms=round(seconds * 1000, 1), lag=self.status.total_lag(),
            trace_ids=list(outcome.trace_ids),
        )  # fmt: skip

    async def _idle(self) -> None:
        """Nothing to project: catch up on the bookkeeping batches leave for later."""
        await self._project.flush_marks()
        if self._hints:
            await self._commit_hint()

    async def _commit_hint(self) -> None:
        # Only partitions still assigned: one taken away since is its new owner's to commit.
        offsets = {tp: offset for tp, offset in self._hints.items() if tp in self.status.next_offsets}
        self._hints, self._hinted_at = {}, time.monotonic()
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as error:
            # A rebalance took the partition away; PostgreSQL already holds the offsets that matter.
            log.warning("kafka offset commit skipped", error=str(error))

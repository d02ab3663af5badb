"""The consumer loop: read `cx.events.v1` in batches, project each batch, resume from PostgreSQL's offsets."""

import asyncio

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from services.projection.adapters.view_store import PostgresViewStore
from services.projection.handlers.project_batch import ProjectBatch

log = structlog.get_logger(__name__)


def create_consumer(bootstrap: str, group: str, batch_timeout_ms: int) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,  # PostgreSQL holds the real offsets; Kafka's are only a hint for tools
        auto_offset_reset="earliest",
        fetch_max_wait_ms=max(batch_timeout_ms, 10),
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )


class OffsetsFromDatabase(ConsumerRebalanceListener):  # type: ignore[misc]
    """Positions each newly assigned partition at the offset committed with the views, not at Kafka's."""

    def __init__(self, consumer: AIOKafkaConsumer, store: PostgresViewStore, group: str, lock: asyncio.Lock):
        self._consumer, self._store, self._group, self._lock = consumer, store, group, lock

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        # Wait for the batch in flight: its partitions must not be processed by two workers at once.
        async with self._lock:
            pass

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        if not assigned:
            return
        stored: dict[str, dict[int, int]] = {}
        for topic in {tp.topic for tp in assigned}:
            stored[topic] = await self._store.stored_offsets(self._group, topic)
        beginnings = await self._consumer.beginning_offsets(assigned)
        ends = await self._consumer.end_offsets(assigned)
        for tp in assigned:
            offset = stored[tp.topic].get(tp.partition)
            # Beyond the end means the broker lost its data or the topic was recreated: read it all again;
            # per-customer positions skip what was applied. An explicit seek(), not seek_to_beginning(): the
            # latter is lazy and once re-delivered a batch fetched before it took effect.
            if offset is None or offset > ends[tp] or offset < beginnings[tp]:
                offset = beginnings[tp]
            self._consumer.seek(tp, offset)
        log.info("partitions assigned", partitions=[(tp.topic, tp.partition) for tp in assigned])


class ProjectionConsumer:
    """One worker in the consumer group; run() until cancelled."""

    def __init__(
        self, consumer: AIOKafkaConsumer, store: PostgresViewStore, project: ProjectBatch, *,
        topic: str, group: str, batch_max_records: int, batch_timeout_ms: int,
    ) -> None:  # fmt: skip
        self._consumer, self._store, self._project = consumer, store, project
        self._topic, self._group = topic, group
        self._max_records, self._timeout_ms = batch_max_records, batch_timeout_ms
        self._lock = asyncio.Lock()

    async def run(self) -> None:
        listener = OffsetsFromDatabase(self._consumer, self._store, self._group, self._lock)
        self._consumer.subscribe([self._topic], listener=listener)
        while True:
            batch = await self._consumer.getmany(timeout_ms=self._timeout_ms, max_records=self._max_records)
            if not batch:
                continue
            async with self._lock:
                await self._project({tp.partition: records for tp, records in batch.items()})
                await self._commit_hint({tp: records[-1].offset + 1 for tp, records in batch.items()})

    async def _commit_hint(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as error:
            # A rebalance took the partition away; PostgreSQL already holds the offsets that matter.
            log.warning("kafka offset commit skipped", error=str(error))

"""Where a newly assigned partition starts: at the offset stored with the views, once the record below it proves
the log is still the one those views were built from; from the log's beginning when it does not."""

import asyncio
from dataclasses import dataclass, field

import orjson
from aiokafka import TopicPartition

from services.projection.adapters.metrics import ProjectionMetrics
from services.projection.entrypoints.consumer import ProjectionConsumer
from services.projection.entrypoints.placement import OffsetsFromDatabase
from tests.unit.projection.fakes import FakeViewStore

GROUP, TOPIC = "projection", "cx.events.v1"
P0 = TopicPartition(TOPIC, 0)


@dataclass
class Record:
    offset: int
    value: bytes


@dataclass
class Consumer:
    """The part of AIOKafkaConsumer placement uses, over one partition holding `positions` at offsets from 0."""

    positions: list[int]
    seeks: list[int] = field(default_factory=list)

    async def beginning_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return dict.fromkeys(partitions, 0)

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return dict.fromkeys(partitions, len(self.positions))

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append(offset)

    def fetch(self) -> dict[TopicPartition, list[Record]]:
        """What the next fetch brings, from the last seek."""
        start = self.seeks[-1]
        return {P0: [Record(o, orjson.dumps({"position": p})) for o, p in enumerate(self.positions) if o >= start]}


async def placed(consumer: Consumer, stored: int, last: int | None) -> ProjectionConsumer:
    store = FakeViewStore()
    async with store.transaction() as tx:
        await tx.save_offsets(GROUP, TOPIC, {0: stored}, {0: last or 0}, None if last is None else {0: last})
    worker = ProjectionConsumer(
        consumer, store, None, topic=TOPIC, group=GROUP, batch_max_records=100, batch_timeout_ms=10,  # type: ignore[arg-type]
    )  # fmt: skip
    listener = OffsetsFromDatabase(consumer, store, GROUP, asyncio.Lock(), worker.status, ProjectionMetrics())  # type: ignore[arg-type]
    await listener.on_partitions_assigned([P0])
    return worker


async def test_the_same_log_goes_on_after_the_last_record_the_views_took() -> None:
    consumer = Consumer(positions=list(range(1, 21)))  # offset n holds position n + 1
    worker = await placed(consumer, stored=10, last=10)

    kept = await worker._verified(consumer.fetch())

    assert consumer.seeks == [9]  # one below, to check the record there
    assert [r.offset for r in kept[P0]] == list(range(10, 20))
    assert worker.status.next_offsets[P0] == 10 and not worker.status.to_verify


async def test_a_log_refilled_under_the_stored_offset_is_read_again_from_its_beginning() -> None:
    # The broker came back empty; the relay sent five new events, then the whole store: offset 9 holds position 5.
    consumer = Consumer(positions=[21, 22, 23, 24, 25, *range(1, 21)])
    worker = await placed(consumer, stored=10, last=10)

    kept = await worker._verified(consumer.fetch())

    assert consumer.seeks == [9, 0]
    assert kept == {P0: []}  # nothing from this fetch: the next one starts at the beginning
    assert worker.status.next_offsets[P0] == 0


async def test_offsets_stored_without_a_last_position_are_trusted_as_before() -> None:
    consumer = Consumer(positions=list(range(1, 21)))
    worker = await placed(consumer, stored=10, last=None)

    assert consumer.seeks == [10] and not worker.status.to_verify
